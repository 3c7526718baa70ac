// Answer times of POST /orders as a fixed log-scale histogram (docs/ARCHITECTURE.md §11): a bucket is
// a quarter of an octave (each bound 2^¼ ≈ 1.19× the one before), from 1/16 ms to 16 s. Counting an
// answer is one array increment; histograms of several gateways add bucket by bucket, so p50 and p99
// across replicas come from their sum, not from an average of percentiles.

const MIN_LOG2 = -4
const STEPS_PER_OCTAVE = 4
const OCTAVES = 18
/** bucket 0: up to 1/16 ms; the last: everything above 2^14 ms */
export const ANSWER_TIME_BUCKETS = OCTAVES * STEPS_PER_OCTAVE + 1

/** The bucket of an answer that took `ms` milliseconds. */
export function answerTimeBucket (ms: number): number {
  if (!(ms > 2 ** MIN_LOG2)) return 0
  const bucket = Math.ceil((Math.log2(ms) - MIN_LOG2) * STEPS_PER_OCTAVE)
  return bucket < ANSWER_TIME_BUCKETS ? bucket : ANSWER_TIME_BUCKETS - 1
}

/** The upper bound (ms) of a bucket: what a percentile that lands in it is reported as. */
export const answerTimeBound = (bucket: number): number => 2 ** (MIN_LOG2 + bucket / STEPS_PER_OCTAVE)

/**
 * The q-quantile (0 < q ≤ 1) of a histogram, as its bucket's upper bound rounded to 0.01 ms (at
 * most 19 % above the true value); null for an empty histogram.
 */
export function answerTimeQuantile (counts: ArrayLike<number>, q: number): number | null {
  let total = 0
  for (let i = 0; i < counts.length; i++) total += counts[i] ?? 0
  if (total === 0) return null
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0
    if (seen >= rank) return Math.round(answerTimeBound(i) * 100) / 100
  }
  return null
}
