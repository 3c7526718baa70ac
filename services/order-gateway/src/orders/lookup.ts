import { AppError, ErrorCode } from '@flash/common'
import type { Order } from '../schemas.ts'
import type { OrderRepository } from './repository.ts'
import type { PendingOrders } from './pending.ts'

/** An order's state: MySQL's row once the processor wrote it, `pending` before, null if never issued. */
export async function lookUpOrder (orders: OrderRepository, pending: PendingOrders, orderId: string): Promise<Order | null> {
  const [stored, waiting] = await Promise.all([orders.find(orderId), pending.find(orderId)])
  if (stored !== null) return stored
  if (waiting === null) return null
  return {
    orderId,
    productId: waiting.productId,
    productName: await orders.productName(waiting.productId),
    quantity: waiting.quantity,
    userId: waiting.userId,
    buyerName: (await orders.buyerNames([waiting.userId])).get(waiting.userId ?? '') ?? null,
    status: 'pending',
    reason: null,
    amount: null,
    currency: null,
    payBy: null,
    paymentStatus: null,
    createdAt: waiting.createdAt,
    updatedAt: waiting.createdAt
  }
}

/** One answer for a missing order and for someone else's: existence is not revealed. */
export const orderNotFound = (orderId: string): AppError =>
  new AppError(404, ErrorCode.ORDER_NOT_FOUND, `order ${orderId} does not exist`)
