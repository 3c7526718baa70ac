import type { Cluster } from 'ioredis'
import { pendingOrderKey } from '@flash/common'

// Orders Kafka acknowledged but the processor has not written yet, so GET /orders/:id can answer
// `pending` and DELETE can accept a cancellation before the order reaches MySQL.

export interface PendingOrder {
  orderId: string
  productId: number
  quantity: number
  userId: string | null
  createdAt: string
}

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
