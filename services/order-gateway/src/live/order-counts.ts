import type { FastifyBaseLogger } from 'fastify'
import { ANSWER_TIME_BUCKETS, answerTimeBucket, type LiveStore } from '@flash/common'

// The gateway's share of the live sale view (docs/ARCHITECTURE.md §11). Per request: a Map lookup,
// two array increments and no I/O — a refusal from memory stays nearly free. Once a second, just after
// the second ends, every product that had orders is added to its Redis hash of that second (one call
// per product); the catalog reads the sum of every replica from there.

class ProductSecond {
  accepted = 0
  refused = 0
  readonly answerTimes = new Uint32Array(ANSWER_TIME_BUCKETS)
  /** flushes in a row without an order: the product is forgotten after IDLE_FLUSHES */
  idle = 0

  reset (): void {
    this.accepted = 0
    this.refused = 0
    this.answerTimes.fill(0)
  }
}

/** past this many products (a crowd of made-up ids that were not refused as unknown) new ones go uncounted */
const MAX_PRODUCTS = 10_000
const IDLE_FLUSHES = 60
/** after the second's end: late enough that no answer of the second is still being counted */
const FLUSH_DELAY_MS = 20

export interface OrderCountsOptions {
  store: LiveStore
  log: FastifyBaseLogger
  now?: () => number
}

export class OrderCounts {
  readonly #o: OrderCountsOptions
  readonly #products = new Map<number, ProductSecond>()
  readonly #now: () => number
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()
  #failing = false

  constructor (options: OrderCountsOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  /** One answer of POST /orders for a known product: accepted (202) or refused, and how long it took. */
  count (productId: number, accepted: boolean, ms: number): void {
    let second = this.#products.get(productId)
    if (second === undefined) {
      if (this.#products.size >= MAX_PRODUCTS) return
      second = new ProductSecond()
      this.#products.set(productId, second)
    }
    if (accepted) second.accepted++
    else second.refused++
    const bucket = answerTimeBucket(ms)
    second.answerTimes[bucket] = (second.answerTimes[bucket] ?? 0) + 1
  }

  start (): void {
    this.#schedule()
  }

  async close (): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#flushing
    await this.flush()
  }

  /**
   * Adds what was counted since the last flush to the second that just ended, and starts counting
   * afresh. Answers of the last few milliseconds before the boundary may land in the next second.
   */
  async flush (): Promise<void> {
    const second = Math.floor(this.#now() / 1000) - 1
    const writes: Array<Promise<void>> = []
    for (const [productId, counts] of this.#products) {
      if (counts.accepted === 0 && counts.refused === 0) {
        if (++counts.idle >= IDLE_FLUSHES) this.#products.delete(productId)
        continue
      }
      counts.idle = 0
      // Copied before the write: the next second's answers count into the reset arrays meanwhile.
      const copy = { accepted: counts.accepted, refused: counts.refused, answerTimes: counts.answerTimes.slice() }
      counts.reset()
      writes.push(this.#o.store.addSecond(productId, second, copy))
    }
    const results = await Promise.allSettled(writes)
    const failed = results.find((r) => r.status === 'rejected')
    // A Redis outage loses the live view's seconds, never an order: said once, not once a second.
    if (failed !== undefined && !this.#failing) this.#o.log.warn({ err: failed.reason }, 'live order counts not written')
    this.#failing = failed !== undefined
  }

  #schedule (): void {
    const wait = 1000 - (this.#now() % 1000) + FLUSH_DELAY_MS
    this.#timer = setTimeout(() => {
      this.#flushing = this.flush()
      this.#schedule()
    }, wait)
    this.#timer.unref()
  }
}
