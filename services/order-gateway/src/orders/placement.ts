import { createHash } from 'node:crypto'
import type { Cluster } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import {
  AppError, ErrorCode, MessageType, SCHEMA_VERSION, idempotencyOwnerKey, newOrderId, serviceUnavailable,
  type StockStore, type OrderPlaced
} from '@flash/common'
import type { OrderPublisher } from '../publishing/publisher.ts'
import type { GatewayMetrics } from '../metrics.ts'
import type { PendingOrders } from './pending.ts'

export interface PlaceOrderInput {
  productId: number
  quantity: number
  userId: string | null
  idempotencyKey: string | undefined
}

export interface PlacementOptions {
  redis: Cluster
  stock: StockStore
  publisher: OrderPublisher
  pending: PendingOrders
  metrics: GatewayMetrics
  idempotencyTtlSeconds: number
  publishTimeoutMs: number
}

const DUPLICATE_POLL_MS = 10

/** what makes two requests with one Idempotency-Key "the same request" */
const fingerprintOf = (input: PlaceOrderInput): string =>
  createHash('sha256').update(`${input.productId}|${input.quantity}|${input.userId ?? ''}`).digest('hex')

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * The hot path (DESIGN.md §4): reserve atomically in Redis, publish order.placed, answer only after
 * Kafka's ack. A publish that fails or times out undoes the reservation (leaving a tombstone, so a
 * message that reaches Kafka late fails in the processor instead of selling the units twice).
 */
export class OrderPlacement {
  readonly #o: PlacementOptions

  constructor (options: PlacementOptions) {
    this.#o = options
  }

  async place (input: PlaceOrderInput, requestId: string, log: FastifyBaseLogger): Promise<{ orderId: string, replayed: boolean }> {
    const { stock, metrics } = this.#o
    const key = input.idempotencyKey
    const fingerprint = key === undefined ? undefined : fingerprintOf(input)
    // Set once this request has reserved and claimed its Idempotency-Key for the product (below).
    let claimedKeyNow = false
    // A refused request changes nothing: not even the key's owner record, so the buyer can use the
    // key again (for another product too) once nothing was reserved under it.
    const refuse = async (error: AppError): Promise<never> => {
      if (claimedKeyNow && key !== undefined) await this.#releaseKey(key, log)
      throw error
    }

    const orderId = newOrderId()
    const createdAt = new Date().toISOString()
    let outcome
    try {
      outcome = await stock.reserve({
        productId: input.productId,
        orderId,
        quantity: input.quantity,
        userId: input.userId,
        idempotencyKey: key,
        fingerprint,
        idempotencyTtlSeconds: this.#o.idempotencyTtlSeconds
      })
    } catch (err) {
      log.error({ err, productId: input.productId }, 'reservation failed: redis unavailable')
      metrics.refused.inc({ reason: 'unavailable' })
      return refuse(serviceUnavailable('stock cannot be reserved right now; retry', err))
    }

    switch (outcome.kind) {
      case 'reserved':
        break
      case 'duplicate':
      {
        const first = outcome.acknowledged ? outcome.orderId : await this.#awaitFirstAttempt(input.productId, key ?? '')
        metrics.replayed.inc()
        return { orderId: first, replayed: true }
      }
      case 'key-reused':
        metrics.refused.inc({ reason: 'idempotency_key_reused' })
        throw keyReused()
      case 'not-on-sale':
        metrics.refused.inc({ reason: 'product_not_found' })
        return refuse(new AppError(404, ErrorCode.PRODUCT_NOT_FOUND, `product ${input.productId} is not on sale`))
      case 'per-user-limit':
        metrics.refused.inc({ reason: 'per_user_limit' })
        return refuse(new AppError(409, ErrorCode.PER_USER_LIMIT,
          `user ${input.userId ?? ''} may buy ${outcome.remaining} more unit(s) of product ${input.productId}`,
          { details: { remaining: outcome.remaining } }))
      case 'insufficient-stock':
        metrics.refused.inc({ reason: 'insufficient_stock' })
        return refuse(new AppError(409, ErrorCode.INSUFFICIENT_STOCK,
          `only ${outcome.unitsLeft} unit(s) of product ${input.productId} left`,
          { details: { available: outcome.unitsLeft } }))
      case 'sale-not-started':
        metrics.refused.inc({ reason: 'sale_not_started' })
        return refuse(saleNotStarted(input.productId, outcome.startsAt))
      case 'sale-ended':
        metrics.refused.inc({ reason: 'sale_ended' })
        return refuse(saleEnded(input.productId, outcome.endsAt))
    }
    log.debug({ orderId, productId: input.productId, quantity: input.quantity, unitsLeft: outcome.unitsLeft }, 'stock reserved')

    // The key is claimed for this product only once something was reserved under it: refusals (most
    // requests once a sale sells out) never touch the owner record. A key already owned by another
    // product undoes this reservation before anything is published.
    if (key !== undefined) {
      try {
        claimedKeyNow = await this.#claimKeyForProduct(key, input.productId)
      } catch (error) {
        await this.#undo(input.productId, orderId, error, log)
        throw error
      }
    }

    const message: OrderPlaced = {
      type: MessageType.ORDER_PLACED,
      version: SCHEMA_VERSION,
      orderId,
      productId: input.productId,
      quantity: input.quantity,
      userId: input.userId,
      requestId,
      createdAt
    }
    try {
      await this.#o.publisher.publish(message, requestId, this.#o.publishTimeoutMs)
      log.debug({ orderId }, 'order published')
    } catch (err) {
      metrics.publishFailures.inc({ type: MessageType.ORDER_PLACED })
      // A publish that timed out may have landed: if a processor already claimed the reservation,
      // the order is in Kafka and is accepted like any other.
      if (await this.#undo(input.productId, orderId, err, log)) {
        return refuse(serviceUnavailable('the order could not be queued; nothing was reserved, retry', err))
      }
    }

    // Only an acknowledged order is `pending`: written after the ack, so a cancellation can never be
    // published ahead of its order (both go through one partition, in the order they were acked).
    const [pendingWrite, acknowledged] = await Promise.allSettled([
      this.#o.pending.remember({ orderId, productId: input.productId, quantity: input.quantity, userId: input.userId, createdAt }),
      key !== undefined && fingerprint !== undefined
        ? stock.markAcknowledged(input.productId, key, orderId, fingerprint)
        : Promise.resolve()
    ])
    // The order is in Kafka: it will be processed whatever happens here, so it is answered 202.
    if (pendingWrite.status === 'rejected') log.warn({ err: pendingWrite.reason, orderId }, 'pending marker not written')
    if (acknowledged.status === 'rejected') log.warn({ err: acknowledged.reason, orderId }, 'idempotency record not marked acknowledged')
    metrics.accepted.inc()
    return { orderId, replayed: false }
  }

  /**
   * A key is global but reservations are per product: the first product a key was used for owns it.
   * Returns true when this request created the owner record (and so must remove it if refused).
   */
  async #claimKeyForProduct (key: string, productId: number): Promise<boolean> {
    let owner: unknown
    try {
      owner = await this.#o.redis.call('SET', idempotencyOwnerKey(key), String(productId), 'NX', 'GET', 'EX', this.#o.idempotencyTtlSeconds)
    } catch (err) {
      throw serviceUnavailable('stock cannot be reserved right now; retry', err)
    }
    if (owner !== null && owner !== String(productId)) {
      this.#o.metrics.refused.inc({ reason: 'idempotency_key_reused' })
      throw keyReused()
    }
    return owner === null
  }

  async #releaseKey (key: string, log: FastifyBaseLogger): Promise<void> {
    // Best effort: a record left behind only expires later (its TTL), it never sells anything.
    await this.#o.redis.del(idempotencyOwnerKey(key)).catch((err: unknown) => log.warn({ err, key }, 'idempotency owner record not removed'))
  }

  /** The first request with this key is still publishing: answer what it answers. */
  async #awaitFirstAttempt (productId: number, key: string): Promise<string> {
    const deadline = Date.now() + this.#o.publishTimeoutMs + 1000
    while (Date.now() < deadline) {
      await pause(DUPLICATE_POLL_MS)
      const record = await this.#o.stock.idempotencyRecord(productId, key).catch(() => undefined)
      if (record === null) throw serviceUnavailable('the first attempt with this Idempotency-Key failed; retry')
      if (record?.acknowledged) return record.orderId
    }
    throw serviceUnavailable('the first attempt with this Idempotency-Key is still in progress; retry')
  }

  /** Undoes the reservation of a failed publish: true, or false when a processor holds the order already. */
  async #undo (productId: number, orderId: string, cause: unknown, log: FastifyBaseLogger): Promise<boolean> {
    try {
      const result = await this.#o.stock.undo(productId, orderId)
      if (result.outcome === 'claimed') {
        log.warn({ err: cause, orderId, productId }, 'publish reported failure but the order reached Kafka: accepted')
        return false
      }
      this.#o.metrics.undone.inc()
      log.info({ err: cause, orderId, productId, ...result }, 'reservation undone')
    } catch (err) {
      // The entry stays in the ledger, unclaimed: stale-reservation release gives its units back.
      log.error({ err, cause, orderId, productId }, 'publish failed and the undo failed too: left to stale release')
    }
    return true
  }
}

const keyReused = (): AppError => new AppError(422, ErrorCode.IDEMPOTENCY_KEY_REUSED,
  'this Idempotency-Key was already used with a different request body')

export const saleNotStarted = (productId: number, startsAt: number): AppError => {
  const saleStartsAt = new Date(startsAt).toISOString()
  return new AppError(409, ErrorCode.SALE_NOT_STARTED, `the sale of product ${productId} starts at ${saleStartsAt}`,
    { details: { saleStartsAt } })
}

const saleEnded = (productId: number, endsAt: number): AppError => {
  const saleEndsAt = new Date(endsAt).toISOString()
  return new AppError(409, ErrorCode.SALE_ENDED, `the sale of product ${productId} ended at ${saleEndsAt}`,
    { details: { saleEndsAt } })
}
