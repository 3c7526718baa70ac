import type { Pool } from 'mysql2/promise'
import type { RowDataPacket } from 'mysql2'
import { orderPaymentStatus, type FinalOrderStatus, type OrderPaymentStatus, type PaymentStatus } from '@flash/common'

// SQL of the gateway, and only reads: the processor is the only writer of orders (docs/ARCHITECTURE.md §1).

export interface StoredOrder {
  orderId: string
  productId: number
  productName: string | null
  quantity: number
  userId: string | null
  buyerName: string | null
  status: FinalOrderStatus
  reason: string | null
  amount: number | null
  currency: string | null
  payBy: string | null
  paymentStatus: OrderPaymentStatus | null
  createdAt: string
  updatedAt: string
}

export interface UnitsByState { unitsSold: number, unitsHeld: number, unitsPaid: number, unitsExpired: number }

export interface OrderFilter {
  userId?: string | undefined
  productId?: number | undefined
  status?: FinalOrderStatus | undefined
}

interface OrderRow extends RowDataPacket {
  id: string
  product_id: number
  product_name: string | null
  quantity: number
  user_id: string | null
  status: FinalOrderStatus
  reason: string | null
  amount: number | string | null
  currency: string | null
  pay_by: Date | null
  payment_status: PaymentStatus | null
  created_at: Date
  updated_at: Date
}

// The payment shown is the one that paid the order, else its latest attempt (payments are the
// payment-service's; read here for display only).
const SELECT_ORDER = `
  SELECT o.id, o.product_id, p.name AS product_name, o.quantity, o.user_id, o.status, o.reason,
         o.amount, o.currency, o.pay_by, o.created_at, o.updated_at,
         COALESCE(
           (SELECT pp.status FROM payments pp WHERE pp.id = o.payment_id),
           (SELECT pl.status FROM payments pl WHERE pl.order_id = o.id ORDER BY pl.created_at DESC LIMIT 1)
         ) AS payment_status
    FROM orders o LEFT JOIN products p ON p.id = o.product_id`

const toOrder = (row: OrderRow): StoredOrder => ({
  orderId: row.id,
  productId: Number(row.product_id),
  productName: row.product_name,
  quantity: row.quantity,
  userId: row.user_id,
  buyerName: null,
  status: row.status,
  reason: row.reason,
  amount: row.amount === null ? null : Number(row.amount),
  currency: row.currency,
  payBy: row.pay_by === null ? null : row.pay_by.toISOString(),
  paymentStatus: orderPaymentStatus(row.status, row.payment_status),
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString()
})

function where (filter: OrderFilter): { sql: string, params: Array<string | number> } {
  const clauses: string[] = []
  const params: Array<string | number> = []
  if (filter.userId !== undefined) { clauses.push('o.user_id = ?'); params.push(filter.userId) }
  if (filter.productId !== undefined) { clauses.push('o.product_id = ?'); params.push(filter.productId) }
  if (filter.status !== undefined) { clauses.push('o.status = ?'); params.push(filter.status) }
  return { sql: clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '', params }
}

export class OrderRepository {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  async find (orderId: string): Promise<StoredOrder | null> {
    const [rows] = await this.#pool.execute<OrderRow[]>(`${SELECT_ORDER} WHERE o.id = ?`, [orderId])
    return rows[0] ? toOrder(rows[0]) : null
  }

  /** Adds each order's buyer name (the admin's list shows who bought). */
  async withBuyerNames (items: StoredOrder[]): Promise<StoredOrder[]> {
    const names = await this.buyerNames(items.map((order) => order.userId))
    return items.map((order) => ({ ...order, buyerName: names.get(order.userId ?? '') ?? null }))
  }

  /**
   * Usernames of buyer ids, read from the catalog's `buyers` table (a read for display only: accounts
   * are the catalog's). A separate query by primary key rather than a join: `orders.user_id` is text
   * (older orders carry free-form ids), and a text-to-number join would not use the key.
   */
  async buyerNames (userIds: Array<string | null>): Promise<Map<string, string>> {
    const ids = [...new Set(userIds.filter((id): id is string => id !== null && /^\d{1,20}$/.test(id)))]
    if (ids.length === 0) return new Map()
    const [rows] = await this.#pool.query<Array<RowDataPacket & { id: number | string, username: string }>>(
      'SELECT id, username FROM buyers WHERE id IN (?)', [ids])
    return new Map(rows.map((row) => [String(row.id), row.username]))
  }

  /** Units per product and order state (the admin's product table); absent ids count 0 everywhere. */
  async unitsByState (productIds: number[]): Promise<Map<number, UnitsByState>> {
    const units = new Map<number, UnitsByState>(productIds.map((id) => [id, { unitsSold: 0, unitsHeld: 0, unitsPaid: 0, unitsExpired: 0 }]))
    if (productIds.length === 0) return units
    const [rows] = await this.#pool.query<Array<RowDataPacket & { product_id: number, status: FinalOrderStatus, units: string | number }>>(
      `SELECT product_id, status, SUM(quantity) AS units FROM orders
        WHERE status IN ('confirmed', 'awaiting_payment', 'paid', 'expired') AND product_id IN (?) GROUP BY product_id, status`,
      [productIds])
    for (const row of rows) {
      const counts = units.get(Number(row.product_id))
      if (counts === undefined) continue
      const n = Number(row.units)
      if (row.status === 'confirmed' || row.status === 'paid') counts.unitsSold += n
      if (row.status === 'awaiting_payment') counts.unitsHeld += n
      if (row.status === 'paid') counts.unitsPaid += n
      if (row.status === 'expired') counts.unitsExpired += n
    }
    return units
  }

  /** Newest first: order ids are time-ordered, so this is a scan of the (…, id) indexes. */
  async page (filter: OrderFilter, page: number, pageSize: number): Promise<{ items: StoredOrder[], total: number }> {
    if (!Number.isSafeInteger(page) || !Number.isSafeInteger(pageSize)) throw new TypeError('page and pageSize must be integers')
    const { sql, params } = where(filter)
    const offset = (page - 1) * pageSize
    // LIMIT/OFFSET are validated integers, inlined because MariaDB rejects them as execute() params.
    const [[rows], [counted]] = await Promise.all([
      this.#pool.execute<OrderRow[]>(`${SELECT_ORDER}${sql} ORDER BY o.id DESC LIMIT ${pageSize} OFFSET ${offset}`, params),
      this.#pool.execute<Array<RowDataPacket & { total: number }>>(`SELECT COUNT(*) AS total FROM orders o${sql}`, params)
    ])
    return { items: rows.map(toOrder), total: Number(counted[0]?.total ?? 0) }
  }

  async productName (productId: number): Promise<string | null> {
    const [rows] = await this.#pool.execute<Array<RowDataPacket & { name: string }>>('SELECT name FROM products WHERE id = ?', [productId])
    return rows[0]?.name ?? null
  }
}
