import type { FastifyBaseLogger } from 'fastify'
import type { StockStore } from '@flash/common'

/** How often the releases are tried while Redis does not answer. */
export const UNSETTLED_RETRY_MS = 1000
/** After this long the catalog's stale release (STALE_RESERVATION_SECONDS, 120 s by default) takes over. */
export const UNSETTLED_GIVE_UP_MS = 120_000
/** At most this many are remembered (a long Redis outage during a sale); the rest are left to stale release. */
export const UNSETTLED_MAX = 10_000
/** Released at once per round, so a Redis that just came back is not met by every release at once. */
export const UNSETTLED_PER_ROUND = 500

export interface UnsettledOptions {
  /** its claim-safe undo releases them: a reservation a processor holds is left alone */
  stock: Pick<StockStore, 'undo'>
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>
  now?: () => number
}

interface Entry { productId: number, since: number }

/**
 * Reservations this gateway left behind and will never publish: a reserve whose answer was lost (Redis
 * failed during the call, so the script may have run; the buyer was answered 503), and a failed
 * publish whose undo failed too. Each is released as soon as Redis answers again, with the same
 * claim-safe undo as a failed publish (units back on sale, a tombstone, the Idempotency-Key's record
 * gone, so the buyer's retry reserves afresh), instead of holding its units and the buyer's key until
 * the catalog's stale release. Bounded in number, rate and time; what it gives up on, stale release
 * still covers.
 */
export class UnsettledReservations {
  readonly #o: UnsettledOptions
  readonly #now: () => number
  readonly #entries = new Map<string, Entry>()
  #timer: NodeJS.Timeout | undefined
  #round: Promise<void> | undefined
  #warnedFull = false
  #closed = false

  constructor (options: UnsettledOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  get size (): number { return this.#entries.size }

  add (productId: number, orderId: string): void {
    if (this.#entries.size >= UNSETTLED_MAX) {
      if (!this.#warnedFull) this.#o.log.warn({ max: UNSETTLED_MAX }, 'too many unsettled reservations: the rest are left to stale release')
      this.#warnedFull = true
      return
    }
    this.#entries.set(orderId, { productId, since: this.#now() })
    if (!this.#closed) this.#timer ??= setInterval(() => { void this.retry() }, UNSETTLED_RETRY_MS).unref()
  }

  /** One round: up to UNSETTLED_PER_ROUND releases; each one done, or given up on after UNSETTLED_GIVE_UP_MS, is forgotten. */
  async retry (): Promise<void> {
    if (this.#round !== undefined) return await this.#round
    this.#round = this.#retryRound().finally(() => { this.#round = undefined })
    return await this.#round
  }

  async #retryRound (): Promise<void> {
    const batch = [...this.#entries].slice(0, UNSETTLED_PER_ROUND)
    await Promise.all(batch.map(async ([orderId, { productId, since }]) => {
      try {
        const { outcome } = await this.#o.stock.undo(productId, orderId)
        this.#entries.delete(orderId)
        this.#o.log.info({ orderId, productId, outcome }, 'unsettled reservation released')
      } catch {
        if (this.#now() - since < UNSETTLED_GIVE_UP_MS) return
        this.#entries.delete(orderId)
        this.#o.log.warn({ orderId, productId }, 'unsettled reservation: Redis did not answer in time, left to stale release')
      }
    }))
    if (this.#entries.size === 0) this.#stopTimer()
  }

  /** At shutdown, before Redis is closed: one last round for what is left, then no more. */
  async close (): Promise<void> {
    this.#closed = true
    this.#stopTimer()
    if (this.#entries.size > 0) await this.retry()
  }

  #stopTimer (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#warnedFull = false
  }
}
