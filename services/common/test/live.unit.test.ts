import t from 'tap'
import {
  ANSWER_TIME_BUCKETS, answerTimeBound, answerTimeBucket, answerTimeQuantile, countsOfSecond, secondFields, type SecondCounts
} from '../src/live/index.ts'

// The live view's per-second math (docs/ARCHITECTURE.md §11), with no Redis: the answer-time
// histogram, the hash fields a gateway adds, and what the sum of several gateways says.

const histogram = (times: number[]): number[] => {
  const counts = new Array<number>(ANSWER_TIME_BUCKETS).fill(0)
  for (const ms of times) counts[answerTimeBucket(ms)] = (counts[answerTimeBucket(ms)] ?? 0) + 1
  return counts
}

/** What HINCRBY does to the second's hash when each gateway adds its fields. */
function addInRedis (...gateways: SecondCounts[]): Record<string, string> {
  const hash: Record<string, string> = {}
  for (const counts of gateways) {
    const fields = secondFields(counts)
    for (let i = 0; i < fields.length; i += 2) {
      const field = String(fields[i])
      hash[field] = String(Number(hash[field] ?? 0) + Number(fields[i + 1]))
    }
  }
  return hash
}

t.test('an answer time falls in the bucket whose bounds hold it, within 19 %', async (t) => {
  for (const ms of [0.07, 0.3, 1, 1.5, 2, 7.3, 42, 250, 999, 4321]) {
    const bucket = answerTimeBucket(ms)
    t.ok(answerTimeBound(bucket) >= ms, `${ms} ms ≤ its bucket's bound ${answerTimeBound(bucket)}`)
    t.ok(answerTimeBound(bucket - 1) < ms, `${ms} ms > the bound below`)
    t.ok(answerTimeBound(bucket) / ms < 1.19 + 1e-9, `${ms} ms is reported at most 19 % high`)
  }
  t.equal(answerTimeBucket(0), 0, 'zero and below go to the first bucket')
  t.equal(answerTimeBucket(-1), 0)
  t.equal(answerTimeBucket(Number.NaN), 0, 'NaN does not index outside the array')
  t.equal(answerTimeBucket(1e9), ANSWER_TIME_BUCKETS - 1, 'anything past 16 s goes to the last bucket')
})

t.test('p50 and p99 of a histogram', async (t) => {
  t.equal(answerTimeQuantile(histogram([]), 0.5), null, 'no answers, no percentile')
  const times = [...Array.from({ length: 98 }, () => 1), 100, 100]
  t.equal(answerTimeQuantile(histogram(times), 0.5), 1, 'p50 of 98 answers at 1 ms and 2 at 100 ms')
  const p99 = answerTimeQuantile(histogram(times), 0.99) ?? 0
  t.ok(p99 >= 100 && p99 < 119, `p99 is the slow answers' bucket (${p99})`)
  t.equal(answerTimeQuantile(histogram([3]), 0.99), answerTimeQuantile(histogram([3]), 0.5), 'one answer is every percentile')
})

t.test('only the counts that are not zero become fields, and they read back as they were', async (t) => {
  const answerTimes = histogram([0.5, 0.5, 8])
  const counts = { accepted: 2, refused: 1, answerTimes }
  const fields = secondFields(counts)
  t.same(fields.filter((_, i) => i % 2 === 0), ['accepted', 'refused', `t${answerTimeBucket(0.5)}`, `t${answerTimeBucket(8)}`])
  t.same(countsOfSecond(addInRedis(counts)), { accepted: 2, refused: 1, answerTimes })
  t.same(secondFields({ accepted: 0, refused: 0, answerTimes: histogram([]) }), [], 'an idle second writes nothing')
  t.same(countsOfSecond({}), { accepted: 0, refused: 0, answerTimes: histogram([]) }, 'an absent hash is all zero')
  t.same(countsOfSecond({ t999: '5', tx: '1', other: '3' }).answerTimes, histogram([]), 'unknown fields are ignored')
})

t.test('three gateways\' seconds add up: counts summed, percentiles of all their answers together', async (t) => {
  const a = { accepted: 5, refused: 100, answerTimes: histogram([...Array.from({ length: 100 }, () => 0.2), 3, 3, 3, 3, 3]) }
  const b = { accepted: 3, refused: 0, answerTimes: histogram([4, 4, 4]) }
  const c = { accepted: 0, refused: 40, answerTimes: histogram(Array.from({ length: 40 }, () => 0.25)) }
  const sum = countsOfSecond(addInRedis(a, b, c))
  t.equal(sum.accepted, 8)
  t.equal(sum.refused, 140)
  const all = histogram([...Array.from({ length: 100 }, () => 0.2), 3, 3, 3, 3, 3, 4, 4, 4, ...Array.from({ length: 40 }, () => 0.25)])
  t.same(sum.answerTimes, all, 'the summed histogram is the histogram of every answer')
  const reported = (ms: number): number => Math.round(answerTimeBound(answerTimeBucket(ms)) * 100) / 100
  t.equal(answerTimeQuantile(sum.answerTimes, 0.5), reported(0.2), 'p50: the refusals\' fast answers')
  t.equal(answerTimeQuantile(sum.answerTimes, 0.99), reported(4), 'p99: the slowest accepted answers')
})
