import type { FastifyBaseLogger } from 'fastify'
import type { RoomStore } from '@flash/common'

// Which products have a waiting room on, in this gateway's memory (docs/ARCHITECTURE.md §10), so an
// order without a pass is refused with no Redis call. Copied from the `rooms` set every
// `refreshMs`, and at once when a product is announced on stock:events (the catalog announces every
// change of a product's settings); until the first copy succeeds no product is known to have a room.

export class RoomRegistry {
  readonly #store: RoomStore
  readonly #log: FastifyBaseLogger
  readonly #refreshMs: number
  #products = new Set<number>()
  #loaded = false
  #timer: NodeJS.Timeout | undefined
  #inFlight: Promise<void> | undefined
  #again = false

  constructor (options: { store: RoomStore, log: FastifyBaseLogger, refreshMs: number }) {
    this.#store = options.store
    this.#log = options.log
    this.#refreshMs = options.refreshMs
  }

  has (productId: number): boolean { return this.#products.has(productId) }

  get products (): ReadonlySet<number> { return this.#products }

  get loaded (): boolean { return this.#loaded }

  start (): void {
    this.#timer = setInterval(() => { void this.refresh() }, this.#refreshMs)
    this.#timer.unref()
  }

  /** Re-reads the set; a call while one is in flight makes it read once more afterwards. */
  async refresh (): Promise<void> {
    if (this.#inFlight !== undefined) {
      this.#again = true
      return await this.#inFlight
    }
    this.#inFlight = (async () => {
      do {
        this.#again = false
        try {
          this.#products = new Set(await this.#store.productsWithRooms())
          this.#loaded = true
        } catch (err) {
          this.#log.warn({ err }, 'waiting rooms: could not read which products have one; keeping the last copy')
        }
      } while (this.#again)
    })().finally(() => { this.#inFlight = undefined })
    return await this.#inFlight
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.#inFlight
  }
}
