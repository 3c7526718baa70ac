import { productCacheKey, type Cluster } from '@flash/common'
import type { FastifyBaseLogger } from 'fastify'
import type { ProductRecord, ProductRepository } from './repository.ts'

// Cache-aside for product details. The cached value is the MySQL row *without* stock: stock always
// comes live from Redis, so a cached entry can never show a stale sold-out (or a stale in-stock).

export type ProductDetails = Omit<ProductRecord, 'stock'>

export interface CacheRead {
  details: ProductDetails | null
  hit: boolean
}

interface Flight { promise: Promise<ProductDetails | null> }

const withoutStock = ({ stock: _stock, ...details }: ProductRecord): ProductDetails => details

export class ProductCache {
  readonly #redis: Cluster
  readonly #repository: ProductRepository
  readonly #ttlSeconds: number
  readonly #log: FastifyBaseLogger
  /** single-flight: one MySQL read per product at a time in this process, however many misses wait */
  readonly #flights = new Map<number, Flight>()

  constructor (options: { redis: Cluster, repository: ProductRepository, ttlSeconds: number, log: FastifyBaseLogger }) {
    this.#redis = options.redis
    this.#repository = options.repository
    this.#ttlSeconds = options.ttlSeconds
    this.#log = options.log
  }

  async read (productId: number): Promise<CacheRead> {
    const cached = await this.#fromCache(productId)
    if (cached !== null) return { details: cached, hit: true }
    let flight = this.#flights.get(productId)
    if (flight === undefined) {
      flight = this.#load(productId)
      this.#flights.set(productId, flight)
    }
    return { details: await flight.promise, hit: false }
  }

  /** After every write to the product: drop the entry and forget any read that began before the write. */
  async invalidate (productId: number): Promise<void> {
    this.#flights.delete(productId)
    await this.#redis.del(productCacheKey(productId))
  }

  #load (productId: number): Flight {
    const flight = {} as Flight
    flight.promise = (async () => {
      try {
        const record = await this.#repository.findById(productId)
        const details = record === null ? null : withoutStock(record)
        // A write invalidated this flight while it read MySQL: its row may predate the write, so it
        // answers the waiting readers but is not cached (the classic cache-aside race).
        if (details !== null && this.#flights.get(productId) === flight) await this.#toCache(details)
        return details
      } finally {
        if (this.#flights.get(productId) === flight) this.#flights.delete(productId)
      }
    })()
    return flight
  }

  async #fromCache (productId: number): Promise<ProductDetails | null> {
    try {
      const raw = await this.#redis.get(productCacheKey(productId))
      return raw === null ? null : JSON.parse(raw) as ProductDetails
    } catch (error) {
      // The cache is an optimisation: if Redis cannot answer, MySQL still can.
      this.#log.warn({ err: error, productId }, 'product cache read failed')
      return null
    }
  }

  async #toCache (details: ProductDetails): Promise<void> {
    try {
      await this.#redis.set(productCacheKey(details.id), JSON.stringify(details), 'EX', this.#ttlSeconds)
    } catch (error) {
      this.#log.warn({ err: error, productId: details.id }, 'product cache write failed')
    }
  }
}
