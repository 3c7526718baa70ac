// The waiting room's decisions as pure functions (docs/ARCHITECTURE.md §10), tested without Redis.
// The Lua scripts apply the score bands and the admission bound atomically; what they are given
// (the random draw, the window) and what a buyer is told (wait, pollAfter) is decided here.

/**
 * Scores: a pre-start joiner's is a uniform draw in [0, 1) from 53 random bits (unpredictable, so the
 * shuffle cannot be gamed); every later joiner's is 1 + its arrival number (room/lua/join.lua), above every
 * pre-start score: everyone who came before the start is admitted first, shuffled, then the rest in order.
 */
export function preStartScore (randomBytes: Buffer): number {
  const high = randomBytes.readUInt32BE(0) >>> 11 // 21 bits
  const low = randomBytes.readUInt32BE(4) // 32 bits
  return (high * 2 ** 32 + low) / 2 ** 53
}

/**
 * How many passes may be outstanding (admitted, not yet used): what the order path used per second
 * over the window, never fewer than the minimum (a new sale, or a slow minute, still admits).
 */
export function admissionWindow (usedPerSecond: number, windowSeconds: number, minWindow: number): number {
  const measured = Number.isFinite(usedPerSecond) && usedPerSecond > 0 ? Math.ceil(usedPerSecond * windowSeconds) : 0
  return Math.max(minWindow, measured)
}

/** Seconds until a buyer with `ahead` people in front is admitted, or null while nothing was measured. */
export function estimateWaitSeconds (ahead: number, admittedPerSecond: number): number | null {
  if (ahead <= 0) return 0
  if (!(admittedPerSecond > 0.01)) return null
  return Math.ceil(ahead / admittedPerSecond)
}

export interface PollLimits {
  /** the front of the line polls this often: an admitted buyer learns its turn within it */
  minMs: number
  /** the back of the line polls at least this often (well inside the time a place is kept) */
  maxMs: number
  /** admissions per second assumed while none were measured (before the start, a new sale) */
  assumedPerSecond: number
}

/**
 * When a waiting buyer polls again: a quarter of its expected wait (people ahead ÷ admissions per
 * second), between `minMs` and `maxMs`; above the minimum spread by up to +20 % (`jitter` in [0, 1)) so
 * a crowd that joined together does not poll together. A line of N then costs about
 * 4 × rate × ln N polls per second instead of N per interval, and the front still learns at once.
 */
export function pollAfterMs (ahead: number | null, admittedPerSecond: number, limits: PollLimits, jitter: number): number {
  if (ahead === null || ahead <= 0) return limits.minMs
  const rate = admittedPerSecond > 0.01 ? admittedPerSecond : limits.assumedPerSecond
  const quarter = ahead / rate * 1000 / 4
  if (quarter <= limits.minMs) return limits.minMs
  return Math.round(Math.min(limits.maxMs, quarter * (1 + 0.2 * jitter)))
}
