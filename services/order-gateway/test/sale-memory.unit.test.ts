import t from 'tap'
import { StockMemory } from '../src/stock-memory/memory.ts'

// The stock memory also remembers "the sale has not started" — for the time Redis said was
// left, measured on the gateway's own monotonic clock from before the call, capped by the safety TTL.

const clock = () => {
  let now = 5000
  return { now: () => now, advance: (ms: number) => { now += ms } }
}

t.test('refuses every quantity until the start as a duration from before the call', async (t) => {
  const c = clock()
  const memory = new StockMemory({ ttlMs: 10_000, now: c.now })
  memory.listening = true
  const calledAt = memory.now()
  c.advance(30) // the script's round trip
  memory.rememberNotStarted(7, 1_900_000_000_000, 400, memory.epochOf(7), calledAt)
  t.match(memory.refusal(7, 1), { kind: 'not-started', startsAt: 1_900_000_000_000 }, 'one unit refused')
  t.match(memory.refusal(7, 10), { kind: 'not-started' }, 'any quantity refused')
  c.advance(369)
  t.ok(memory.refusal(7, 1), '1 ms before the start (counted from the call): still refused')
  c.advance(1)
  t.equal(memory.refusal(7, 1), undefined, 'at the start Redis decides again (never later than the start)')
})

t.test('capped by the safety TTL: a start far away is asked about again after ttlMs', async (t) => {
  const c = clock()
  const memory = new StockMemory({ ttlMs: 1000, now: c.now })
  memory.listening = true
  memory.rememberNotStarted(7, 1_900_000_000_000, 3_600_000, memory.epochOf(7), memory.now())
  c.advance(999)
  t.ok(memory.refusal(7, 1))
  c.advance(1)
  t.equal(memory.refusal(7, 1), undefined)
})

t.test('an announcement (the window moved) forgets it; an answer older than an announcement is not kept', async (t) => {
  const c = clock()
  const memory = new StockMemory({ ttlMs: 1000, now: c.now })
  memory.listening = true
  memory.rememberNotStarted(7, 1_900_000_000_000, 500, memory.epochOf(7), memory.now())
  memory.forget(7)
  t.equal(memory.refusal(7, 1), undefined, 'forgotten on the announcement')

  const epoch = memory.epochOf(7)
  memory.forget(7) // announced while the script call was in flight
  memory.rememberNotStarted(7, 1_900_000_000_000, 500, epoch, memory.now())
  t.equal(memory.refusal(7, 1), undefined, 'not remembered: the announcement may describe a change the script did not see')
})

t.test('nothing is remembered while not listening, nor for a start already reached', async (t) => {
  const c = clock()
  const memory = new StockMemory({ ttlMs: 1000, now: c.now })
  memory.rememberNotStarted(7, 1_900_000_000_000, 500, memory.epochOf(7), memory.now())
  t.equal(memory.refusal(7, 1), undefined, 'not subscribed: Redis only')
  memory.listening = true
  memory.rememberNotStarted(7, 1_900_000_000_000, 0, memory.epochOf(7), memory.now())
  t.equal(memory.refusal(7, 1), undefined, 'no time left: nothing to remember')
})
