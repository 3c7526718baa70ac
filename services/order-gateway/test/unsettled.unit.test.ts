import t from 'tap'
import { UnsettledReservations, UNSETTLED_GIVE_UP_MS, UNSETTLED_MAX, UNSETTLED_PER_ROUND } from '../src/orders/unsettled.ts'

type Outcome = 'undone' | 'absent' | 'claimed'

// What the gateway does with a reservation it will never publish: released once Redis answers, at a
// bounded rate, given up on (to the catalog's stale release) after a while, and at shutdown tried once more.

const quiet = { info: () => {}, warn: () => {} }

function world (answers: (orderId: string) => Outcome | Error) {
  let clock = 1_000_000
  const calls: string[] = []
  const unsettled = new UnsettledReservations({
    stock: {
      undo: async (_productId, orderId) => {
        calls.push(orderId)
        const answer = answers(orderId)
        if (answer instanceof Error) throw answer
        return answer === 'undone' ? { outcome: answer, units: 1 } : { outcome: answer }
      }
    },
    log: quiet,
    now: () => clock
  })
  t.teardown(() => unsettled.close())
  return { unsettled, calls, advance: (ms: number) => { clock += ms } }
}

t.test('released once Redis answers, then forgotten', async (t) => {
  let redisUp = false
  const { unsettled, calls } = world(() => redisUp ? 'undone' : new Error('CLUSTERDOWN'))
  unsettled.add(7, 'order-a')
  unsettled.add(7, 'order-b')
  await unsettled.retry()
  t.equal(unsettled.size, 2, 'kept while Redis does not answer')
  redisUp = true
  await unsettled.retry()
  t.equal(unsettled.size, 0, 'forgotten once released')
  t.same(calls, ['order-a', 'order-b', 'order-a', 'order-b'])
  await unsettled.retry()
  t.equal(calls.length, 4, 'nothing released twice')
})

t.test('an order a processor holds, or a reservation that never happened, is forgotten too', async (t) => {
  const { unsettled } = world((id) => id === 'claimed' ? 'claimed' : 'absent')
  unsettled.add(1, 'claimed')
  unsettled.add(1, 'never-reserved')
  await unsettled.retry()
  t.equal(unsettled.size, 0)
})

t.test('given up on after UNSETTLED_GIVE_UP_MS without an answer: stale release covers it', async (t) => {
  const { unsettled, advance } = world(() => new Error('timeout'))
  unsettled.add(1, 'old')
  advance(UNSETTLED_GIVE_UP_MS - 1)
  unsettled.add(1, 'young')
  await unsettled.retry()
  t.equal(unsettled.size, 2, 'both kept just before the limit')
  advance(1)
  await unsettled.retry()
  t.equal(unsettled.size, 1, 'the old one given up on, the young one kept')
})

t.test('bounded: at most UNSETTLED_PER_ROUND releases per round, at most UNSETTLED_MAX remembered', async (t) => {
  const { unsettled, calls } = world(() => 'undone')
  for (let i = 0; i < UNSETTLED_MAX + 5; i++) unsettled.add(1, `o${i}`)
  t.equal(unsettled.size, UNSETTLED_MAX, 'the rest are left to stale release')
  await unsettled.retry()
  t.equal(calls.length, UNSETTLED_PER_ROUND, 'one round releases a bounded number')
  t.equal(unsettled.size, UNSETTLED_MAX - UNSETTLED_PER_ROUND)
})

t.test('close: one last round, then nothing more is remembered', async (t) => {
  const { unsettled, calls } = world(() => 'undone')
  unsettled.add(1, 'at-shutdown')
  await unsettled.close()
  t.same(calls, ['at-shutdown'], 'released before Redis is closed')
  t.equal(unsettled.size, 0)
})

t.test('a round already running is joined, not doubled', async (t) => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const calls: string[] = []
  const unsettled = new UnsettledReservations({
    stock: { undo: async (_p, orderId) => { calls.push(orderId); await gate; return { outcome: 'undone', units: 1 } } },
    log: quiet
  })
  t.teardown(() => unsettled.close())
  unsettled.add(1, 'slow')
  const first = unsettled.retry()
  const second = unsettled.retry()
  release()
  await Promise.all([first, second])
  t.same(calls, ['slow'], 'one release call')
})
