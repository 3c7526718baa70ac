import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { ORDER_RECORD_COLUMNS, toOrderRecord, type FinalOrderStatus, type OrderRecord, type PaymentStatus } from '@flash/common'

// Every SQL statement of the payment-service. It writes `payments` and `payment_events` only; orders
// are the processor's and are read here to know what a payment is for and whether its order took it.

export interface PaymentRecord {
  id: string
  orderId: string
  provider: string
  amount: number
  currency: string
  status: PaymentStatus
  clientSecret: string | null
  reason: string | null
  refundId: string | null
  notified: boolean
  createdAt: Date
  updatedAt: Date
}

/** The order a payment is for, as MySQL holds it. */
export type OrderForPayment = OrderRecord

/** A payment the worker must act on, with its order's state. */
export interface Unsettled extends PaymentRecord {
  productId: number
  orderStatus: FinalOrderStatus
  orderPaymentId: string | null
}

const PAYMENT_FIELDS = ['id', 'order_id', 'provider', 'amount', 'currency', 'status', 'client_secret', 'reason', 'refund_id', 'notified_at', 'created_at', 'updated_at']
const PAYMENT_COLUMNS = PAYMENT_FIELDS.join(', ')
/** The payment's columns and its order's state, for the worker's queries (payments `p`, orders `o`). */
const UNSETTLED_COLUMNS = `${PAYMENT_FIELDS.map((f) => `p.${f}`).join(', ')}, o.product_id, o.status AS order_status, o.payment_id AS order_payment_id`

const toPayment = (row: RowDataPacket): PaymentRecord => ({
  id: String(row.id),
  orderId: String(row.order_id),
  provider: String(row.provider),
  amount: Number(row.amount),
  currency: String(row.currency),
  status: row.status as PaymentStatus,
  clientSecret: row.client_secret === null ? null : String(row.client_secret),
  reason: row.reason === null ? null : String(row.reason),
  refundId: row.refund_id === null ? null : String(row.refund_id),
  notified: row.notified_at !== null,
  createdAt: row.created_at as Date,
  updatedAt: row.updated_at as Date
})

export class PaymentRepository {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  get pool (): Pool { return this.#pool }

  async order (orderId: string): Promise<OrderForPayment | null> {
    const [rows] = await this.#pool.execute<RowDataPacket[]>(
      `SELECT ${ORDER_RECORD_COLUMNS} FROM orders WHERE id = ?`, [orderId])
    return rows[0] === undefined ? null : toOrderRecord(rows[0])
  }

  async find (paymentId: string, conn: Pool | PoolConnection = this.#pool, forUpdate = false): Promise<PaymentRecord | null> {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [paymentId])
    return rows[0] === undefined ? null : toPayment(rows[0])
  }

  /** The order's newest payment attempt. */
  async latestOf (orderId: string, conn: Pool | PoolConnection = this.#pool): Promise<PaymentRecord | null> {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = ? ORDER BY created_at DESC LIMIT 1`, [orderId])
    return rows[0] === undefined ? null : toPayment(rows[0])
  }

  async countOf (orderId: string, conn: Pool | PoolConnection = this.#pool): Promise<number> {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM payments WHERE order_id = ?', [orderId])
    return Number(rows[0]?.n ?? 0)
  }

  async insert (payment: { id: string, orderId: string, provider: string, amount: number, currency: string, clientSecret: string | null },
    conn: Pool | PoolConnection = this.#pool): Promise<void> {
    await conn.execute(
      "INSERT INTO payments (id, order_id, provider, amount, currency, status, client_secret) VALUES (?, ?, ?, ?, ?, 'requires_payment', ?)",
      [payment.id, payment.orderId, payment.provider, payment.amount, payment.currency, payment.clientSecret])
  }

  /** Moves a payment from one of `from` to `to`; false when it was in none of them (someone else moved it). */
  async transition (paymentId: string, from: PaymentStatus[], to: PaymentStatus, fields: { reason?: string | null, refundId?: string } = {},
    conn: Pool | PoolConnection = this.#pool): Promise<boolean> {
    const sets = ['status = ?']
    const params: Array<string | null> = [to]
    if (fields.reason !== undefined) { sets.push('reason = ?'); params.push(fields.reason) }
    if (fields.refundId !== undefined) { sets.push('refund_id = ?'); params.push(fields.refundId) }
    const [result] = await conn.query<ResultSetHeader>(
      `UPDATE payments SET ${sets.join(', ')} WHERE id = ? AND status IN (?)`, [...params, paymentId, from])
    return result.affectedRows === 1
  }

  async markNotified (paymentIds: string[]): Promise<void> {
    if (paymentIds.length === 0) return
    await this.#pool.query('UPDATE payments SET notified_at = CURRENT_TIMESTAMP(3) WHERE id IN (?) AND notified_at IS NULL', [paymentIds])
  }

  /**
   * Records a provider event by its id, inside the caller's transaction. 'new': first delivery;
   * 'duplicate': the same event delivered again (same bytes); 'conflict': the id was seen with another
   * body, which only a forgery or a replay with tampered content can produce.
   */
  async recordEvent (conn: PoolConnection, event: { id: string, type: string, paymentId: string | null, payloadHash: string }): Promise<'new' | 'duplicate' | 'conflict'> {
    const [result] = await conn.query<ResultSetHeader>(
      'INSERT IGNORE INTO payment_events (id, type, payment_id, payload_hash) VALUES (?, ?, ?, ?)',
      [event.id, event.type, event.paymentId, event.payloadHash])
    if (result.affectedRows === 1) return 'new'
    const [rows] = await conn.query<RowDataPacket[]>('SELECT payload_hash FROM payment_events WHERE id = ?', [event.id])
    return rows[0]?.payload_hash === event.payloadHash ? 'duplicate' : 'conflict'
  }

  /**
   * What the worker acts on: succeeded payments (to announce to the processor, or to match with their
   * order), refunds not finished, and paid payments whose order was withdrawn. Each set is small: a
   * payment leaves it once settled.
   */
  async unsettled (limit: number): Promise<Unsettled[]> {
    const [rows] = await this.#pool.query<RowDataPacket[]>(
      `(SELECT ${UNSETTLED_COLUMNS}
          FROM payments p JOIN orders o ON o.id = p.order_id
         WHERE p.status IN ('succeeded', 'refund_pending')
         LIMIT ?)
       UNION ALL
       (SELECT ${UNSETTLED_COLUMNS}
          FROM orders o JOIN payments p ON p.id = o.payment_id
         WHERE o.status = 'cancelled' AND o.payment_id IS NOT NULL AND p.status = 'paid'
         LIMIT ?)`, [limit, limit])
    return rows.map((row) => ({
      ...toPayment(row),
      productId: Number(row.product_id),
      orderStatus: row.order_status as FinalOrderStatus,
      orderPaymentId: row.order_payment_id === null ? null : String(row.order_payment_id)
    }))
  }
}
