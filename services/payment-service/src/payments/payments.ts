import type { PoolConnection, RowDataPacket } from 'mysql2/promise'
import { AppError, ErrorCode, type Pool } from '@flash/common'
import type { PaymentProvider } from '../provider/provider.ts'
import type { PaymentRecord, PaymentRepository, OrderForPayment } from './repository.ts'
import type { PaymentMetrics } from '../metrics.ts'

// The buyer's side of payments: open a payment for a held order, read it, and (sandbox) confirm it
// with a test card. What the provider then says arrives as a webhook event (webhook.ts).

/** Payments a buyer may still complete: a new attempt is not made while one of these exists. */
const OPEN = new Set(['requires_payment', 'processing', 'declined'])

export const paymentNotFound = (paymentId: string): AppError =>
  new AppError(404, ErrorCode.PAYMENT_NOT_FOUND, `payment ${paymentId} does not exist`)
export const orderNotFound = (orderId: string): AppError =>
  new AppError(404, ErrorCode.ORDER_NOT_FOUND, `order ${orderId} does not exist (an order is payable once GET /orders/:id says awaiting_payment)`)

export interface PaymentView {
  paymentId: string
  orderId: string
  status: PaymentRecord['status']
  amount: number
  currency: string
  payBy: string | null
  reason: string | null
  clientSecret?: string | null
  sandbox: boolean
}

export interface PaymentsOptions {
  repository: PaymentRepository
  provider: PaymentProvider
  sandbox: boolean
  metrics?: PaymentMetrics
  now?: () => number
}

export class Payments {
  readonly #o: PaymentsOptions

  constructor (options: PaymentsOptions) {
    this.#o = options
  }

  view (payment: PaymentRecord, order: OrderForPayment | null, withSecret: boolean): PaymentView {
    return {
      paymentId: payment.id,
      orderId: payment.orderId,
      status: payment.status,
      amount: payment.amount,
      currency: payment.currency,
      payBy: order?.payBy?.toISOString() ?? null,
      reason: payment.reason,
      ...(withSecret ? { clientSecret: payment.clientSecret } : {}),
      sandbox: this.#o.sandbox
    }
  }

  /**
   * The order's open payment, or a new one at the provider. `mayAccess` decides who may pay (its
   * buyer, its receipt holder); anyone else is told the order does not exist.
   */
  async open (orderId: string, mayAccess: (order: { orderId: string, userId: string | null }) => boolean): Promise<{ created: boolean, view: PaymentView }> {
    const repo = this.#o.repository
    const order = await repo.order(orderId)
    if (order === null || !mayAccess({ orderId, userId: order.userId })) throw orderNotFound(orderId)
    const now = (this.#o.now ?? Date.now)()
    if (order.status !== 'awaiting_payment' || order.amount === null || order.currency === null ||
      order.payBy === null || order.payBy.getTime() <= now) {
      const status = order.status === 'awaiting_payment' ? 'expired' : order.status
      throw new AppError(409, ErrorCode.ORDER_NOT_PAYABLE, `order ${orderId} is ${status}: nothing to pay`, { details: { status } })
    }
    // One attempt at a time per order, across replicas: a named lock, held for the provider's call.
    return await withNamedLock(repo.pool, `payment:${orderId}`, async (conn) => {
      const latest = await repo.latestOf(orderId, conn)
      if (latest !== null && OPEN.has(latest.status)) return { created: false, view: this.view(latest, order, true) }
      if (latest !== null && latest.status === 'succeeded') {
        throw new AppError(409, ErrorCode.ORDER_NOT_PAYABLE, `order ${orderId} has a payment being applied`, { details: { status: 'paid' } })
      }
      const attempt = await repo.countOf(orderId, conn)
      const created = await this.#o.provider.create({
        orderId, amount: order.amount as number, currency: order.currency as string, idempotencyKey: `order-${orderId}-${attempt + 1}`
      })
      await repo.insert({ id: created.id, orderId, provider: this.#o.provider.name, amount: order.amount as number, currency: order.currency as string, clientSecret: created.clientSecret }, conn)
      this.#o.metrics?.opened.inc()
      const payment = await repo.find(created.id, conn)
      if (payment === null) throw new Error(`payment ${created.id} vanished after insert`)
      return { created: true, view: this.view(payment, order, true) }
    })
  }

  /** A payment and its order, if the caller may see the order. */
  async read (paymentId: string, mayAccess: (order: { orderId: string, userId: string | null }) => boolean): Promise<{ payment: PaymentRecord, order: OrderForPayment }> {
    const payment = await this.#o.repository.find(paymentId)
    const order = payment === null ? null : await this.#o.repository.order(payment.orderId)
    if (payment === null || order === null || !mayAccess({ orderId: order.id, userId: order.userId })) throw paymentNotFound(paymentId)
    return { payment, order }
  }

  /** Sandbox: confirms with a test payment method at the provider; the outcome comes as an event. */
  async confirm (payment: PaymentRecord, order: OrderForPayment, paymentMethod: string): Promise<void> {
    if (!OPEN.has(payment.status) || order.status !== 'awaiting_payment') {
      throw new AppError(409, ErrorCode.ORDER_NOT_PAYABLE, `payment ${payment.id} is ${payment.status} and its order ${order.status}`,
        { details: { status: order.status } })
    }
    await this.#o.provider.confirm(payment.id, paymentMethod)
    await this.#o.repository.transition(payment.id, ['requires_payment', 'declined'], 'processing', { reason: null })
  }
}

/** Runs `work` holding a MySQL named lock, on the lock's own connection (never a second one from the pool). */
async function withNamedLock<T> (pool: Pool, name: string, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection()
  try {
    const [[row]] = await conn.query<Array<{ got: number | null } & RowDataPacket>>('SELECT GET_LOCK(?, 10) AS got', [name])
    if (Number(row?.got) !== 1) throw new AppError(503, ErrorCode.SERVICE_UNAVAILABLE, 'another payment of this order is being opened; retry', { headers: { 'retry-after': '1' } })
    try {
      return await work(conn)
    } finally {
      await conn.query('DO RELEASE_LOCK(?)', [name])
    }
  } finally {
    conn.release()
  }
}
