import type { FastifyBaseLogger } from 'fastify'
import { AppError, ErrorCode, MessageType, SCHEMA_VERSION, serviceUnavailable, type OrderCancelRequested } from '@flash/common'
import type { OrderPublisher } from '../publishing/publisher.ts'
import type { GatewayMetrics } from '../metrics.ts'
import type { OrderRepository } from './repository.ts'
import type { PendingOrders } from './pending.ts'
import { orderNotFound } from './lookup.ts'

export interface CancellationOptions {
  orders: OrderRepository
  pending: PendingOrders
  publisher: OrderPublisher
  metrics: GatewayMetrics
  publishTimeoutMs: number
}

/** A free order, a held one (units back) and a paid one (refunded by the payment-service, units back). */
const WITHDRAWABLE = new Set(['confirmed', 'awaiting_payment', 'paid'])

/**
 * The seed's "withdraw order": the gateway only asks (order.cancel-requested, same key and so the same
 * partition as the order); the processor cancels a confirmed, held or paid order once and returns its units.
 */
export class OrderCancellation {
  readonly #o: CancellationOptions

  constructor (options: CancellationOptions) {
    this.#o = options
  }

  /** `mayAccess`: whether the caller may see this order; if not, it is answered as missing (404). */
  async request (orderId: string, requestId: string, log: FastifyBaseLogger,
    mayAccess: (order: { orderId: string, userId: string | null }) => boolean): Promise<void> {
    const [stored, pending] = await Promise.all([this.#o.orders.find(orderId), this.#o.pending.find(orderId)])
    const found = stored ?? pending
    if (found === null || !mayAccess({ orderId, userId: found.userId })) throw orderNotFound(orderId)
    let productId: number
    if (stored !== null) {
      if (!WITHDRAWABLE.has(stored.status)) {
        throw new AppError(409, ErrorCode.ORDER_NOT_CANCELLABLE, `order ${orderId} is ${stored.status} and cannot be cancelled`)
      }
      productId = stored.productId
    } else if (pending !== null) {
      // Acknowledged but not yet written: the processor sees the order first (same partition), then this.
      productId = pending.productId
    } else {
      throw orderNotFound(orderId)
    }

    const message: OrderCancelRequested = {
      type: MessageType.ORDER_CANCEL_REQUESTED,
      version: SCHEMA_VERSION,
      orderId,
      productId,
      requestId,
      requestedAt: new Date().toISOString()
    }
    try {
      await this.#o.publisher.publish(message, requestId, this.#o.publishTimeoutMs)
    } catch (err) {
      this.#o.metrics.publishFailures.inc({ type: MessageType.ORDER_CANCEL_REQUESTED })
      log.info({ err, orderId }, 'cancellation not published')
      throw serviceUnavailable('the cancellation could not be queued; retry', err)
    }
    this.#o.metrics.cancelRequests.inc()
    log.debug({ orderId, productId }, 'cancellation published')
  }
}
