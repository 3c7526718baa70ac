import t from 'tap'
import { StockMemory } from '../src/stock-memory/memory.ts'

// The gateway's stock memory on its own (no Redis): when a refusal may be answered from memory, and
// everything that makes it ask Redis again.

const clock = () => {
  let now = 1000
  return { now: () => now, advance: (ms: number) => { now += ms } }
}

t.test('remembers "N left" and refuses only orders for more than N', async (t) => {
  const c = clock()
  const memory = new StockMemory({ ttlMs: 1000, now: c.now })
  memory.listening = true
  memory.rememberUnitsLeft(7, 2, memory.epochOf(7))
  t.equal(memory.refusal(7, 3)?.unitsLeft, 2, 'three units of two left: refused from memory')
  t.equal(memory.refusal(7, 2), undefined, 'two units may still be there: Redis decides')
  t.equal(memory.refusal(8, 1), undefined, 'another product is unknown')
})

t.test('an announcement for the product drops its entry; others stay', async (t) => {
  const memory = new StockMemory({ ttlMs: 1000 })
  memory.listening = true
  memory.rememberUnitsLeft(1, 0, memory.epochOf(1))
  memory.rememberUnitsLeft(2, 0, memory.epochOf(2))
  memory.forget(1)
  t.equal(memory.refusal(1, 1), undefined, 'units came back: ask Redis')
  t.equal(memory.refusal(2, 1)?.unitsLeft, 0, 'the other product is still sold out')
})

t.test('an answer is not remembered when an announcement came while its call was in flight', async (t) => {
  const memory = new StockMemory({ ttlMs: 1000 })
  memory.listening = true
  const epochAtCall = memory.epochOf(5)
  memory.forget(5) // units of product 5 came back after the script ran, before its answer arrived
  memory.rememberUnitsLeft(5, 0, epochAtCall)
  t.equal(memory.refusal(5, 1), undefined, 'the stale "sold out" is not trusted')
  t.equal(memory.size, 0)
})

t.test('an announcement of another product does not void an answer in flight; a resubscription does', async (t) => {
  const memory = new StockMemory({ ttlMs: 1000 })
  memory.listening = true
  const epochAtCall = memory.epochOf(5)
  memory.forget(6) // another product's units came back meanwhile
  memory.rememberUnitsLeft(5, 0, epochAtCall)
  t.equal(memory.refusal(5, 1)?.unitsLeft, 0, 'remembered: nothing was announced about product 5')

  const beforeReconnect = memory.epochOf(9)
  memory.forgetAll() // resubscribed, or an announcement naming no product
  memory.rememberUnitsLeft(9, 0, beforeReconnect)
  t.equal(memory.refusal(9, 1), undefined, 'not remembered: anything may have been missed')
  t.equal(memory.size, 0, 'and forgetAll dropped product 5 too')
})

t.test('an entry expires after the TTL (a lost announcement costs at most that)', async (t) => {
  const c = clock()
  const memory = new StockMemory({ ttlMs: 500, now: c.now })
  memory.listening = true
  memory.rememberUnitsLeft(3, 0, memory.epochOf(3))
  c.advance(499)
  t.equal(memory.refusal(3, 1)?.unitsLeft, 0, 'still trusted just before the TTL')
  c.advance(1)
  t.equal(memory.refusal(3, 1), undefined, 'expired: ask Redis')
  t.equal(memory.size, 0, 'and dropped')
})

t.test('nothing is remembered while not listening, and losing the subscription clears everything', async (t) => {
  const memory = new StockMemory({ ttlMs: 1000 })
  memory.rememberUnitsLeft(4, 0, memory.epochOf(4))
  t.equal(memory.refusal(4, 1), undefined, 'not subscribed yet: never answer from memory')
  memory.listening = true
  memory.rememberUnitsLeft(4, 0, memory.epochOf(4))
  t.equal(memory.refusal(4, 1)?.unitsLeft, 0)
  memory.listening = false
  t.equal(memory.refusal(4, 1), undefined, 'a reconnect may have missed announcements')
})
