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
  /** admissions per second assumed while none were measured, and for a place only units coming back can reach */
  assumedPerSecond: number
  /** a sale's first wave: its stock is assumed admitted within this long of the start, until measured */
  firstWaveSeconds: number
}

/** Where a waiting buyer stands, as one status read saw it. */
export interface PollPlace {
  /** people ahead, null when not in the line */
  ahead: number | null
  /** the room's measured admissions per second (moving average) */
  admittedPerSecond: number
  /** units still for sale (live stock) and passes outstanding: the line can reach `stock − holdingPass` */
  stock: number
  holdingPass: number
  /** ms since the sale started: negative before the start */
  sinceStartMs: number
}

/**
 * When a waiting buyer polls again: a quarter of its expected wait (people ahead ÷ admissions per
 * second), between `minMs` and `maxMs`, spread by up to +20 % (`jitter` in [0, 1)) so a crowd that
 * joined together does not poll together. A line of N then costs about 4 × rate × ln N polls per second
 * instead of N per interval, and the front still learns at once. The rate:
 * - within reach (fewer ahead than the units the line can still get) in a sale's first wave (before
 *   the start and `firstWaveSeconds` after it), at least the stock over the first wave: admission there
 *   follows the order path, faster than a moving average that starts at 0 can say;
 * - otherwise the measured rate (the assumed one while none was measured); beyond reach, where only
 *   units coming back admit anyone, the assumed one.
 * Before the start nobody is admitted: the wait counts from the start, and the front of the line is
 * spread over the start's first `minMs`. A place within reach long before the start looks again
 * halfway there instead: the line keeps growing until the start (a pre-start place is a random draw),
 * so an early joiner's place moves back, and one told "at the start" then would poll with the crowd.
 * Past `maxMs` (which keeps the place) a poll is spread over the second half of it instead: a line whose
 * back all hit the cap would otherwise poll at once.
 */
export function pollAfterMs (place: PollPlace, limits: PollLimits, jitter: number): number {
  const { ahead, sinceStartMs } = place
  if (ahead === null || (ahead <= 0 && sinceStartMs >= 0)) return limits.minMs
  const reach = place.stock - place.holdingPass
  const measured = place.admittedPerSecond > 0.01 ? place.admittedPerSecond : limits.assumedPerSecond
  const firstWave = sinceStartMs < limits.firstWaveSeconds * 1000
  const rate = ahead >= reach
    ? limits.assumedPerSecond
    : firstWave ? Math.max(measured, reach / limits.firstWaveSeconds) : measured
  const spread = 1 + 0.2 * jitter
  const quarter = ahead / rate * 1000 / 4
  const wait = waitMs(-sinceStartMs, ahead < reach, quarter, spread, limits.minMs * jitter, limits.minMs)
  return Math.round(wait < limits.maxMs ? wait : limits.maxMs * (0.5 + 0.5 * jitter))
}

/** pollAfterMs before its cap: `quarter` is the quarter of the wait once the sale runs. */
function waitMs (untilStart: number, withinReach: boolean, quarter: number, spread: number, startSpread: number, minMs: number): number {
  if (untilStart > 2 * minMs && withinReach) return untilStart / 2 * spread
  if (untilStart > 0) return untilStart + Math.max(quarter * spread, startSpread)
  return quarter <= minMs ? minMs : quarter * spread
}
