import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise'

// Every SQL statement of the bench: reading a sale's outcome for the checks, and the batched-insert
// ceiling's own rows (a throwaway product id and an id range no ULID can take, deleted afterwards).

export interface OrderRow { id: string, status: 'confirmed' | 'failed' | 'cancelled', quantity: number }

export async function ordersOfProduct (pool: Pool, productId: number): Promise<OrderRow[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT id, status, quantity FROM orders WHERE product_id = ?', [productId])
  return rows as OrderRow[]
}

export async function countOrders (pool: Pool, productId: number): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM orders WHERE product_id = ?', [productId])
  return Number(rows[0]?.n ?? 0)
}

/** The buyer of each of the product's orders (a buyer twice: two entries). */
export async function orderBuyers (pool: Pool, productId: number): Promise<string[]> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT user_id FROM orders WHERE product_id = ?', [productId])
  return rows.map((r) => String(r.user_id))
}

/** How many buyers hold more units of the product than `limit` (orders not failed, cancelled or expired). */
export async function buyersOverLimit (pool: Pool, productId: number, limit: number): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM (SELECT user_id FROM orders WHERE product_id = ? AND status NOT IN ('failed', 'cancelled', 'expired')
     GROUP BY user_id HAVING SUM(quantity) > ?) AS over_limit`, [productId, limit])
  return Number(rows[0]?.n ?? 0)
}

/** When MySQL wrote the product's orders (updated_at is set by MySQL at insert: statement time). */
export async function writeTimes (pool: Pool, productId: number): Promise<Array<{ at: number, n: number }>> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT updated_at AS at, COUNT(*) AS n FROM orders WHERE product_id = ? GROUP BY updated_at ORDER BY updated_at', [productId])
  return rows.map((r) => ({ at: (r.at as Date).getTime(), n: Number(r.n) }))
}

export async function productStock (pool: Pool, productId: number): Promise<{ stock: number, status: string } | null> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT stock, status FROM products WHERE id = ?', [productId])
  const row = rows[0]
  return row === undefined ? null : { stock: Number(row.stock), status: String(row.status) }
}

/** One transaction, one multi-row INSERT: how the processor writes a batch, minus its stock UPDATE. */
export async function insertOrderBatch (connection: PoolConnection, rows: Array<[string, number, string, Date]>): Promise<void> {
  await connection.beginTransaction()
  try {
    await connection.query(
      'INSERT INTO orders (id, product_id, user_id, quantity, status, created_at) VALUES ?',
      [rows.map(([id, productId, userId, createdAt]) => [id, productId, userId, 1, 'confirmed', createdAt])])
    await connection.commit()
  } catch (error) {
    await connection.rollback()
    throw error
  }
}

/** Removes a throwaway product's orders in slices, so no statement holds locks for long. */
export async function deleteOrdersOfProduct (pool: Pool, productId: number): Promise<number> {
  let deleted = 0
  for (;;) {
    const [result] = await pool.query('DELETE FROM orders WHERE product_id = ? LIMIT 5000', [productId])
    const affected = (result as { affectedRows: number }).affectedRows
    deleted += affected
    if (affected === 0) return deleted
  }
}
