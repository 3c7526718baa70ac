import type { FastifyBaseLogger } from 'fastify'
import {
  AppError, ErrorCode, MessageType, SCHEMA_VERSION, errorBody, newOrderId, serviceUnavailable, sleep,
  type StockStore, type OrderPlaced, type RoomPassUse
} from '@flash/common'
import type { OrderPublisher } from '../publishing/publisher.ts'
import type { GatewayMetrics } from '../metrics.ts'
import type { StockMemory } from '../stock-memory/memory.ts'
import type { PendingOrders } from './pending.ts'
import type { UnsettledReservations } from './unsettled.ts'

/** What the order route hands over: the order's own fields (as OrderPlaced names them) and how it came. */
export interface PlaceOrderInput extends Pick<OrderPlaced, 'productId' | 'quantity' | 'userId'> {
  idempotencyKey: string | undefined
  /** a product whose waiting room is on: the buyer's verified pass, used up by the reservation */
  roomPass?: RoomPassUse | undefined
}

export interface PlacementOptions {
  stock: StockStore
  memory: StockMemory
  publisher: OrderPublisher
  pending: PendingOrders
  /** what this gateway reserved and will not publish, released once Redis answers again */
  unsettled: UnsettledReservations
  metrics: GatewayMetrics
  idempotencyTtlSeconds: number
  publishTimeoutMs: number
}

const DUPLICATE_POLL_MS = 10

/**
 * What makes two requests with one Idempotency-Key "the same request": its quantity and buyer (short
 * enough to keep as they are, no hash). The record lives with the product, so a key is scoped to one
 * product: the same key for another product is another request.
 */
const fingerprintOf = (input: PlaceOrderInput): string => `${input.quantity}|${input.userId ?? ''}`

const insufficientStockMessage = (productId: number, unitsLeft: number): string => `only ${unitsLeft} unit(s) of product ${productId} left`
const insufficientStock = (productId: number, unitsLeft: number): AppError =>
  new AppError(409, ErrorCode.INSUFFICIENT_STOCK, insufficientStockMessage(productId, unitsLeft), { details: { available: unitsLeft } })

/**
 * The hot path (docs/ARCHITECTURE.md §4): refuse from memory what is known to be sold out; otherwise
 * one Lua call reserves the units and records the idempotency key; publish order.placed; answer only
 * after Kafka's ack, then one more Redis call writes the pending record. A publish that fails or times
 * out undoes the reservation (leaving a tombstone, so a message that reaches Kafka late fails in the
 * processor instead of selling the units twice).
 */
export class OrderPlacement {
  readonly #o: PlacementOptions
  readonly #refusedFromMemory
  readonly #refusedInsufficient
  readonly #refusedNotStarted

  constructor (options: PlacementOptions) {
    this.#o = options
    // Label lookups hashed once, not per refusal.
    this.#refusedFromMemory = options.metrics.refusedFromMemory
    this.#refusedInsufficient = options.metrics.refused.labels('insufficient_stock')
    this.#refusedNotStarted = options.metrics.refused.labels('sale_not_started')
  }

  /**
   * Most requests of a sale that sold out (or has not started yet) end here: the 409 body (JSON) when
   * memory already knows the answer — no Redis call, and the answer rendered once per product, not per
   * request. A retry of an accepted request is refused too if it comes while the product is sold out;
   * its order stands and is listed with the buyer's orders (docs/ARCHITECTURE.md §4).
   */
  refusalFromMemory (productId: number, quantity: number): string | undefined {
    const remembered = this.#o.memory.refusal(productId, quantity)
    if (remembered === undefined) return undefined
    this.#refusedFromMemory.inc()
    if (remembered.kind === 'not-started') {
      this.#refusedNotStarted.inc()
      return (remembered.answer ??= JSON.stringify(errorBody(409, ErrorCode.SALE_NOT_STARTED,
        saleNotStartedMessage(productId, remembered.startsAt), { saleStartsAt: saleStartsAtText(remembered.startsAt) })))
    }
    this.#refusedInsufficient.inc()
    return (remembered.answer ??= JSON.stringify(errorBody(409, ErrorCode.INSUFFICIENT_STOCK,
      insufficientStockMessage(productId, remembered.unitsLeft), { available: remembered.unitsLeft })))
  }

  /** Reserve, publish, answer (callers ask refusalFromMemory first). */
  async place (input: PlaceOrderInput, requestId: string, log: FastifyBaseLogger): Promise<{ orderId: string, replayed: boolean }> {
    const { stock, memory, metrics } = this.#o
    const { productId, quantity } = input

    const key = input.idempotencyKey
    const fingerprint = key === undefined ? undefined : fingerprintOf(input)
    const orderId = newOrderId()
    const epoch = memory.epochOf(productId)
    const calledAt = memory.now()
    let outcome
    try {
      outcome = await stock.reserve({
        productId,
        orderId,
        quantity,
        userId: input.userId,
        idempotencyKey: key,
        fingerprint,
        idempotencyTtlSeconds: this.#o.idempotencyTtlSeconds,
        roomPass: input.roomPass
      })
    } catch (err) {
      log.error({ err, productId }, 'reservation failed: redis unavailable')
      metrics.refused.inc({ reason: 'unavailable' })
      // The script may have run before the answer was lost: nobody will publish this order, so its
      // reservation (if any) is released once Redis answers again.
      this.#o.unsettled.add(productId, orderId)
      throw serviceUnavailable('stock cannot be reserved right now; retry', err)
    }

    switch (outcome.kind) {
      case 'reserved':
        break
      case 'duplicate': {
        const first = await this.#awaitFirstAttempt(productId, key ?? '', outcome.orderId)
        metrics.replayed.inc()
        return { orderId: first, replayed: true }
      }
      case 'key-reused':
        metrics.refused.inc({ reason: 'idempotency_key_reused' })
        throw new AppError(422, ErrorCode.IDEMPOTENCY_KEY_REUSED,
          'this Idempotency-Key was already used with a different request body')
      case 'not-on-sale':
        metrics.refused.inc({ reason: 'product_not_found' })
        throw new AppError(404, ErrorCode.PRODUCT_NOT_FOUND, `product ${productId} is not on sale`)
      case 'per-user-limit':
        metrics.refused.inc({ reason: 'per_user_limit' })
        throw new AppError(409, ErrorCode.PER_USER_LIMIT,
          `user ${input.userId ?? ''} may buy ${outcome.remaining} more unit(s) of product ${productId}`,
          { details: { remaining: outcome.remaining } })
      case 'sign-in-required':
        // a guest (no identity to count against) asked for a product with a per-user limit; nothing was reserved
        metrics.refused.inc({ reason: 'sign_in_required' })
        throw new AppError(401, ErrorCode.SIGN_IN_REQUIRED,
          `product ${productId} has a per-user limit: sign in to buy it (guest orders are for products without one)`)
      case 'insufficient-stock':
        this.#refusedInsufficient.inc()
        memory.rememberUnitsLeft(productId, outcome.unitsLeft, epoch)
        throw insufficientStock(productId, outcome.unitsLeft)
      case 'sale-not-started':
        this.#refusedNotStarted.inc()
        // Remembered until the start as Redis counts it, as a duration on this process's monotonic
        // clock from before the call (so this gateway's wall clock never matters, and the memory
        // lets go no later than the start), or until an announcement that the window moved.
        memory.rememberNotStarted(productId, outcome.startsAt, outcome.startsAt - outcome.redisNow, epoch, calledAt)
        throw saleNotStarted(productId, outcome.startsAt)
      case 'room-pass-invalid':
        metrics.refused.inc({ reason: 'room_pass_invalid' })
        throw new AppError(403, ErrorCode.ROOM_PASS_INVALID,
          'waiting-room pass refused: it was used already, or is no longer the one you hold; join the room again')
      case 'sale-ended':
        metrics.refused.inc({ reason: 'sale_ended' })
        throw saleEnded(productId, outcome.endsAt)
    }

    const createdAt = new Date().toISOString()
    const message: OrderPlaced = {
      type: MessageType.ORDER_PLACED,
      version: SCHEMA_VERSION,
      orderId,
      productId,
      quantity,
      userId: input.userId,
      requestId,
      createdAt
    }
    try {
      await this.#o.publisher.publish(message, requestId, this.#o.publishTimeoutMs)
    } catch (err) {
      metrics.publishFailures.inc({ type: MessageType.ORDER_PLACED })
      // A publish that timed out may have landed: if a processor already claimed the reservation,
      // the order is in Kafka and is accepted like any other.
      if (await this.#undo(productId, orderId, err, log)) {
        throw serviceUnavailable('the order could not be queued; nothing was reserved, retry', err)
      }
    }

    // Only an acknowledged order is `pending`: written after the ack, so a cancellation can never be
    // published ahead of its order (both go through one partition, in the order they were acked).
    // The order is in Kafka: it will be processed whatever happens here, so it is answered 202.
    await this.#o.pending.remember({ orderId, productId, quantity, userId: input.userId, createdAt })
      .catch((err: unknown) => log.warn({ err, orderId }, 'pending record not written'))
    metrics.accepted.inc()
    return { orderId, replayed: false }
  }

  /**
   * The key's first request reserved `orderId`: answer it once Kafka has it (its pending record
   * exists), fail when that request gave up (its idempotency record is gone), wait while it publishes.
   */
  async #awaitFirstAttempt (productId: number, key: string, orderId: string): Promise<string> {
    const deadline = Date.now() + this.#o.publishTimeoutMs + 1000
    for (;;) {
      const [pending, record] = await Promise.all([
        this.#o.pending.find(orderId).catch(() => undefined),
        this.#o.stock.idempotencyRecord(productId, key).catch(() => undefined)
      ])
      if (pending) return orderId
      if (record === null) throw serviceUnavailable('the first attempt with this Idempotency-Key failed; retry')
      if (Date.now() >= deadline) break
      await sleep(DUPLICATE_POLL_MS)
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
      // The entry stays in the ledger, unclaimed: released once Redis answers again.
      log.error({ err, cause, orderId, productId }, 'publish failed and the undo failed too: released when Redis answers')
      this.#o.unsettled.add(productId, orderId)
    }
    return true
  }
}

const saleStartsAtText = (startsAt: number): string => new Date(startsAt).toISOString()
const saleNotStartedMessage = (productId: number, startsAt: number): string =>
  `the sale of product ${productId} starts at ${saleStartsAtText(startsAt)}`
const saleNotStarted = (productId: number, startsAt: number): AppError =>
  new AppError(409, ErrorCode.SALE_NOT_STARTED, saleNotStartedMessage(productId, startsAt), { details: { saleStartsAt: saleStartsAtText(startsAt) } })

const saleEnded = (productId: number, endsAt: number): AppError => {
  const saleEndsAt = new Date(endsAt).toISOString()
  return new AppError(409, ErrorCode.SALE_ENDED, `the sale of product ${productId} ended at ${saleEndsAt}`,
    { details: { saleEndsAt } })
}
