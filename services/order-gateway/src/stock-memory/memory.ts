// What a gateway remembers of a product's sale so that most refusals cost no Redis call: once the
// reservation script has said "only N units left", an order for more than N is refused from memory
// (docs/ARCHITECTURE.md §4). Stock only goes down between announcements, so the refusal stays true
// until units come back; the stock scripts announce that (./events.ts) and the entry is dropped.
//
// Three things keep I5 (no false sold-out) within a bounded window:
//   - an announcement drops the product's entry at once;
//   - an answer is remembered only if no announcement arrived while its script call was in flight
//     (the announcement may describe a change the script did not see yet): the `epoch` check;
//   - every entry expires after `ttlMs` (a lost message, a subscriber that was down), and nothing is
//     remembered at all while the subscriber is not listening.
// Pure logic, tested without Redis.

export interface StockMemoryOptions {
  /** longest time an entry is trusted without an announcement */
  ttlMs: number
  /** monotonic clock in ms (tests pass their own) */
  now?: () => number
}

export interface Remembered {
  /** orders for more units than this are refused */
  readonly unitsLeft: number
  readonly expiresAt: number
  /** the caller's rendered answer for this refusal, kept with the entry (made once, sent many times) */
  answer?: string
}

export class StockMemory {
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #entries = new Map<number, Remembered>()
  #epoch = 0
  #listening = false

  constructor (options: StockMemoryOptions) {
    this.#ttlMs = options.ttlMs
    this.#now = options.now ?? (() => performance.now())
  }

  /** Counts announcements: read it before a script call, hand it back with the answer. */
  get epoch (): number { return this.#epoch }

  /** Entries are kept only while announcements can be heard. */
  set listening (value: boolean) {
    this.#listening = value
    this.forgetAll()
  }

  get listening (): boolean { return this.#listening }

  /** The script answered "only `unitsLeft` left" for a call that started at `epochAtCall`. */
  rememberUnitsLeft (productId: number, unitsLeft: number, epochAtCall: number): void {
    if (!this.#listening || epochAtCall !== this.#epoch) return
    this.#entries.set(productId, { unitsLeft, expiresAt: this.#now() + this.#ttlMs })
  }

  /** What to refuse an order of `quantity` with, or undefined when only Redis can tell. */
  refusal (productId: number, quantity: number): Remembered | undefined {
    const entry = this.#entries.get(productId)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(productId)
      return undefined
    }
    return quantity > entry.unitsLeft ? entry : undefined
  }

  /** An announcement: the product's units came back or its sale settings changed. */
  forget (productId: number): void {
    this.#epoch++
    this.#entries.delete(productId)
  }

  forgetAll (): void {
    this.#epoch++
    this.#entries.clear()
  }

  /** products remembered right now (metrics, tests) */
  get size (): number { return this.#entries.size }
}
