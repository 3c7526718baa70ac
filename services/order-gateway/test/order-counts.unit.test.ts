import t from 'tap'
import { pino } from 'pino'
import { answerTimeBucket, type LiveStore, type SecondCounts } from '@flash/common'
import { OrderCounts } from '../src/live/order-counts.ts'

// The gateway's per-second counts (docs/ARCHITECTURE.md §11), with no Redis: what one flush writes,
// for which second, and that counting starts afresh after it.

interface Written { productId: number, second: number, counts: SecondCounts }

function recorder (fail = false): { store: LiveStore, written: Written[] } {
  const written: Written[] = []
  const store = {
    addSecond: async (productId: number, second: number, counts: SecondCounts) => {
      if (fail) throw new Error('redis down')
      written.push({ productId, second, counts: { ...counts, answerTimes: Array.from(counts.answerTimes) } })
    }
  } as unknown as LiveStore
  return { store, written }
}

const log = pino({ level: 'silent' })

t.test('a flush writes each product\'s answers to the second that just ended, then counts afresh', async (t) => {
  let now = Date.parse('2026-12-03T10:00:05.020Z')
  const { store, written } = recorder()
  const counts = new OrderCounts({ store, log, now: () => now })
  counts.count(1, true, 2.5)
  counts.count(1, false, 0.2)
  counts.count(1, false, 0.2)
  counts.count(2, false, 0.1)
  await counts.flush()
  const second = Date.parse('2026-12-03T10:00:04Z') / 1000
  t.same(written.map((w) => [w.productId, w.second, w.counts.accepted, w.counts.refused]), [[1, second, 1, 2], [2, second, 0, 1]])
  const times = written[0]?.counts.answerTimes ?? []
  t.equal(times[answerTimeBucket(2.5)], 1)
  t.equal(times[answerTimeBucket(0.2)], 2)
  t.equal(Array.from(times).reduce((a, b) => a + b, 0), 3, 'one answer time per answer')

  written.length = 0
  now += 1000
  await counts.flush()
  t.same(written, [], 'a second without answers writes nothing')
  counts.count(1, true, 1)
  now += 1000
  await counts.flush()
  t.same(written.map((w) => [w.productId, w.second, w.counts.accepted, w.counts.refused]), [[1, second + 2, 1, 0]], 'the next second starts from zero')
})

t.test('a product idle for a minute is forgotten; a Redis outage costs the view, not the counting', async (t) => {
  let now = 1_000_000
  const down = recorder(true)
  const counts = new OrderCounts({ store: down.store, log, now: () => now })
  counts.count(7, true, 1)
  await counts.flush()
  t.same(down.written, [], 'nothing written while Redis is down, and flush does not throw')

  const up = recorder()
  const later = new OrderCounts({ store: up.store, log, now: () => now })
  later.count(7, true, 1)
  for (let i = 0; i < 61; i++) { now += 1000; await later.flush() }
  later.count(7, false, 1)
  now += 1000
  await later.flush()
  t.same(up.written.map((w) => [w.productId, w.counts.accepted, w.counts.refused]), [[7, 1, 0], [7, 0, 1]], 'counted again as a new product after it was forgotten')
})
