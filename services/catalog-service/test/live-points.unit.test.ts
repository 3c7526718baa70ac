import t from 'tap'
import { ANSWER_TIME_BUCKETS, answerTimeBucket } from '@flash/common'
import { livePoint, PointRing } from '../src/live/points.ts'

// A product's second as the stream sends it, and the history a page gets when it opens, with no stack.

const times = (...ms: number[]): number[] => {
  const counts = new Array<number>(ANSWER_TIME_BUCKETS).fill(0)
  for (const m of ms) counts[answerTimeBucket(m)] = (counts[answerTimeBucket(m)] ?? 0) + 1
  return counts
}

t.test('a point carries the second\'s counts, percentiles, stock, units and lag', async (t) => {
  const point = livePoint(3, 1_700_000_000, { counts: { accepted: 2, refused: 1, answerTimes: times(1, 1, 8) }, stock: 4 },
    { unitsHeld: 5, unitsPaid: 1, unitsConfirmed: 0 }, 12)
  t.same(point, { productId: 3, at: 1_700_000_000_000, accepted: 2, refused: 1, p50Ms: 1, p99Ms: 8, stock: 4, unitsHeld: 5, unitsPaid: 1, unitsConfirmed: 0, kafkaLag: 12 })
})

t.test('a second without answers has no percentiles; a product not on sale has no stock', async (t) => {
  const point = livePoint(3, 10, { counts: { accepted: 0, refused: 0, answerTimes: times() }, stock: null }, undefined, null)
  t.same([point.accepted, point.refused, point.p50Ms, point.p99Ms, point.stock, point.unitsHeld, point.kafkaLag], [0, 0, null, null, null, 0, null])
  t.same(livePoint(3, 10, undefined, undefined, null).p50Ms, null, 'nothing read at all')
})

t.test('the history ring keeps the last points, oldest first', async (t) => {
  const ring = new PointRing(3)
  const at = (second: number) => livePoint(1, second, undefined, undefined, null)
  t.same(ring.toArray(), [])
  ring.push(at(1))
  ring.push(at(2))
  t.same(ring.toArray().map((p) => p.at / 1000), [1, 2], 'not full yet')
  for (const s of [3, 4, 5]) ring.push(at(s))
  t.same(ring.toArray().map((p) => p.at / 1000), [3, 4, 5], 'the oldest were overwritten')
})
