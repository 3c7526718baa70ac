import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { ORDER_RECORD_COLUMNS, toOrderRecord, type FinalOrderStatus, type OrderRecord, type ProductStatus } from '@flash/common'

// Every SQL statement of the processor. All but the expiry scan run inside the one transaction of a
// batch, on the connection the batch holds; none of them commits.

/**
 * A row the batch inserts: the order record (amount, currency and payBy are the hold of a priced
 * product's order, null for a free one) as it starts, with why it failed and the request it came in.
 */
export interface NewOrder extends Omit<OrderRecord, 'status' | 'paymentId'> {
  status: 'confirmed' | 'failed' | 'awaiting_payment'
  reason: string | null
  requestId: string | null
  createdAt: Date
}

export interface LockedProduct { id: number, stock: number, status: ProductStatus, price: number, paymentWindowSeconds: number }

/** An order under its row lock. */
export type LockedOrder = OrderRecord

/** Rows per multi-row statement: keeps packets and IN lists bounded whatever the batch size. */
const CHUNK = 500

function chunks<T> (items: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK))
  return out
}

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(',')

export const ordersRepository = {
  /**
   * READ COMMITTED: a read after the product locks sees every order another instance committed while
   * holding them (no stale snapshot), and no gap locks, so instances inserting neighbouring ULIDs do
   * not deadlock each other.
   */
  async begin (conn: PoolConnection): Promise<void> {
    await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
    await conn.beginTransaction()
  },

  /**
   * Locks the products in ascending id order (one statement, primary-key order), so two batches that
   * touch the same products queue instead of deadlocking. Missing products are absent from the map.
   */
  async lockProducts (conn: PoolConnection, productIds: number[]): Promise<Map<number, LockedProduct>> {
    const found = new Map<number, LockedProduct>()
    if (productIds.length === 0) return found
    const sorted = [...productIds].sort((a, b) => a - b)
    for (const ids of chunks(sorted)) {
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT id, stock, status, price, payment_window_seconds FROM products WHERE id IN (${placeholders(ids.length)}) ORDER BY id FOR UPDATE`, ids)
      for (const row of rows) {
        found.set(Number(row.id), {
          id: Number(row.id),
          stock: Number(row.stock),
          status: row.status as LockedProduct['status'],
          price: Number(row.price),
          paymentWindowSeconds: Number(row.payment_window_seconds)
        })
      }
    }
    return found
  },

  /** Orders of this batch already in MySQL (a redelivery or replay), with their status. */
  async existingOrders (conn: PoolConnection, orderIds: string[]): Promise<Map<string, FinalOrderStatus>> {
    const found = new Map<string, FinalOrderStatus>()
    for (const ids of chunks(orderIds)) {
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT id, status FROM orders WHERE id IN (${placeholders(ids.length)})`, ids)
      for (const row of rows) found.set(String(row.id), row.status as FinalOrderStatus)
    }
    return found
  },

  /** The guard of I1: takes `units` only if they are all there. */
  async takeStock (conn: PoolConnection, productId: number, units: number): Promise<boolean> {
    const [result] = await conn.execute<ResultSetHeader>(
      'UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?', [units, productId, units])
    return result.affectedRows === 1
  },

  async returnStock (conn: PoolConnection, productId: number, units: number): Promise<void> {
    await conn.execute('UPDATE products SET stock = stock + ? WHERE id = ?', [units, productId])
  },

  /** INSERT IGNORE: a row already there is left as it is. Returns how many rows were inserted. */
  async insertOrders (conn: PoolConnection, orders: NewOrder[]): Promise<number> {
    let inserted = 0
    for (const rows of chunks(orders)) {
      const values: Array<string | number | Date | null> = []
      for (const o of rows) values.push(o.id, o.productId, o.userId, o.quantity, o.status, o.reason, o.requestId, o.createdAt, o.amount, o.currency, o.payBy)
      const [result] = await conn.query<ResultSetHeader>(
        `INSERT IGNORE INTO orders (id, product_id, user_id, quantity, status, reason, request_id, created_at, amount, currency, pay_by) VALUES ${
          rows.map(() => '(?,?,?,?,?,?,?,?,?,?,?)').join(',')}`, values)
      inserted += result.affectedRows
    }
    return inserted
  },

  /**
   * Locks the orders (ascending id, in chunks) and reads them whole; missing ids are absent. The
   * batch decides on these rows and writes the outcome with setStatus and recordPayments.
   */
  async lockOrders (conn: PoolConnection, orderIds: string[]): Promise<Map<string, LockedOrder>> {
    const found = new Map<string, LockedOrder>()
    for (const ids of chunks([...orderIds].sort())) {
      const [rows] = await conn.query<RowDataPacket[]>(
        `SELECT ${ORDER_RECORD_COLUMNS} FROM orders WHERE id IN (${placeholders(ids.length)}) ORDER BY id FOR UPDATE`, ids)
      for (const row of rows) found.set(String(row.id), toOrderRecord(row))
    }
    return found
  },

  /** The new status of orders the batch holds locked (one statement per chunk). */
  async setStatus (conn: PoolConnection, orderIds: string[], status: 'paid' | 'expired' | 'cancelled', reason: string | null): Promise<void> {
    for (const ids of chunks(orderIds)) {
      await conn.query(`UPDATE orders SET status = ?, reason = ? WHERE id IN (${placeholders(ids.length)})`, [status, reason, ...ids])
    }
  },

  /** The payment that paid each order, and when (locked by the batch). */
  async recordPayments (conn: PoolConnection, paid: Array<{ id: string, paymentId: string, paidAt: Date }>): Promise<void> {
    for (const rows of chunks(paid)) {
      const cases = (column: 'paymentId' | 'paidAt'): { sql: string, params: Array<string | Date> } => ({
        sql: `CASE id ${rows.map(() => 'WHEN ? THEN ?').join(' ')} END`,
        params: rows.flatMap((r) => [r.id, r[column]])
      })
      const payment = cases('paymentId')
      const paidAt = cases('paidAt')
      await conn.query(`UPDATE orders SET payment_id = ${payment.sql}, paid_at = ${paidAt.sql} WHERE id IN (${placeholders(rows.length)})`,
        [...payment.params, ...paidAt.params, ...rows.map((r) => r.id)])
    }
  },

  /** Held orders whose deadline has passed, oldest deadline first (the expiry scan; index on status, pay_by). */
  async dueHolds (pool: Pool, now: Date, limit: number): Promise<Array<{ id: string, productId: number, payBy: Date }>> {
    const [rows] = await pool.query<RowDataPacket[]>(
      "SELECT id, product_id, pay_by FROM orders WHERE status = 'awaiting_payment' AND pay_by <= ? ORDER BY pay_by LIMIT ?", [now, limit])
    return rows.map((r) => ({ id: String(r.id), productId: Number(r.product_id), payBy: r.pay_by as Date }))
  }
}

export type OrdersRepository = typeof ordersRepository
