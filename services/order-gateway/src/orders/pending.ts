import type { Cluster } from 'ioredis'
import { pendingOrderKey, type OrderPlaced } from '@flash/common'

// Orders Kafka acknowledged but the processor has not written yet, so GET /orders/:id can answer
// `pending` and DELETE can accept a cancellation before the order reaches MySQL.

/** What GET /orders/:id needs of an order before MySQL has it: the published order's own fields. */
export type PendingOrder = Pick<OrderPlaced, 'orderId' | 'productId' | 'quantity' | 'userId' | 'createdAt'>

/** Longer than any processor backlog we plan for; the MySQL row is the lasting record. */
const PENDING_TTL_SECONDS = 86400

export class PendingOrders {
  readonly #redis: Cluster

  constructor (redis: Cluster) {
    this.#redis = redis
  }

  async remember (order: PendingOrder): Promise<void> {
    await this.#redis.set(pendingOrderKey(order.orderId), JSON.stringify(order), 'EX', PENDING_TTL_SECONDS)
  }

  async find (orderId: string): Promise<PendingOrder | null> {
    const raw = await this.#redis.get(pendingOrderKey(orderId))
    return raw === null ? null : JSON.parse(raw) as PendingOrder
  }
}
