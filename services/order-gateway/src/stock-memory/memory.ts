// What a gateway remembers of a product's sale so that most refusals cost no Redis call: once the
// reservation script has said "only N units left", an order for more than N is refused from memory;
// once it has said "not started", every order is refused until the start
// (docs/ARCHITECTURE.md §4). Stock only goes down between announcements, so the refusal stays true
// until units come back; the stock scripts announce that (./events.ts) and the entry is dropped.
//
// Three things keep I5 (no false sold-out) within a bounded window:
//   - an announcement drops the product's entry at once;
//   - an answer is remembered only if no announcement of its product (and no resubscription) arrived
//     while its script call was in flight (the announcement may describe a change the script did not
//     see yet): the `epochOf` check. Announcements of other products do not count: in a busy shop,
//     some product's units come back every moment, and a global count would void nearly every answer;
//   - every entry expires after `ttlMs` (a lost message, a subscriber that was down), and nothing is
//     remembered at all while the subscriber is not listening.
// Pure logic, tested without Redis.

export interface StockMemoryOptions {
  /** longest time an entry is trusted without an announcement */
  ttlMs: number
  /** monotonic clock in ms (tests pass their own) */
  now?: () => number
}

export type Remembered = SoldOut | NotStarted

interface SoldOut {
  readonly kind: 'units-left'
  /** orders for more units than this are refused */
  readonly unitsLeft: number
  readonly expiresAt: number
  /** the caller's rendered answer for this refusal, kept with the entry (made once, sent many times) */
  answer?: string
}

/** The sale has not started; every order is refused until `expiresAt` (or an announcement). */
interface NotStarted {
  readonly kind: 'not-started'
  /** the start as Redis's clock has it (ms epoch), for the answer */
  readonly startsAt: number
  readonly expiresAt: number
  readonly unitsLeft?: undefined
  answer?: string
}

export class StockMemory {
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #entries = new Map<number, Remembered>()
  /** forgetAll calls */
  #epoch = 0
  /**
   * announcements per product, never dropped (a count that restarted could repeat the one a call in
   * flight read): one small entry per product announced while this process runs
   */
  readonly #announced = new Map<number, number>()
  #listening = false

  constructor (options: StockMemoryOptions) {
    this.#ttlMs = options.ttlMs
    this.#now = options.now ?? (() => performance.now())
  }

  /** This memory's monotonic clock (ms): read it before a script call whose answer is a duration. */
  now (): number { return this.#now() }

  /**
   * Counts the announcements that concern the product: read it before a script call, hand it back
   * with the answer. A sum of two counters that only grow, so it changes whenever either does.
   */
  epochOf (productId: number): number { return this.#epoch + (this.#announced.get(productId) ?? 0) }

  /** Entries are kept only while announcements can be heard. */
  set listening (value: boolean) {
    this.#listening = value
    this.forgetAll()
  }

  get listening (): boolean { return this.#listening }

  /** The script answered "only `unitsLeft` left" for a call that started at `epochAtCall`. */
  rememberUnitsLeft (productId: number, unitsLeft: number, epochAtCall: number): void {
    if (!this.#listening || epochAtCall !== this.epochOf(productId)) return
    this.#entries.set(productId, { kind: 'units-left', unitsLeft, expiresAt: this.#now() + this.#ttlMs })
  }

  /**
   * The script answered "not started" for a call that started at `calledAt` (this memory's clock):
   * Redis's clock had `untilStartMs` to go. Remembered for that long from `calledAt` — a duration, so
   * clock skew between this process and Redis does not matter, and counted from before the call, so
   * the entry lets go no later than the start (the next order asks Redis) — capped by the safety TTL.
   */
  rememberNotStarted (productId: number, startsAt: number, untilStartMs: number, epochAtCall: number, calledAt: number): void {
    if (!this.#listening || epochAtCall !== this.epochOf(productId) || !(untilStartMs > 0)) return
    this.#entries.set(productId, { kind: 'not-started', startsAt, expiresAt: calledAt + Math.min(untilStartMs, this.#ttlMs) })
  }

  /** What to refuse an order of `quantity` with, or undefined when only Redis can tell. */
  refusal (productId: number, quantity: number): Remembered | undefined {
    const entry = this.#entries.get(productId)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(productId)
      return undefined
    }
    if (entry.kind === 'not-started') return entry
    return quantity > entry.unitsLeft ? entry : undefined
  }

  /** An announcement: the product's units came back or its sale settings changed. */
  forget (productId: number): void {
    this.#announced.set(productId, (this.#announced.get(productId) ?? 0) + 1)
    this.#entries.delete(productId)
  }

  forgetAll (): void {
    this.#epoch++
    this.#entries.clear()
  }

  /** products remembered right now (metrics, tests) */
  get size (): number { return this.#entries.size }
}
