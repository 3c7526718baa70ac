import type { Pool, MysqlStock, ProductStatus } from '@flash/common'
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'

// Every SQL statement of the catalog. Stock is written here only by restock (the processor owns the
// rest); everything else is product details.

/** A product as MySQL holds it; `stock` is MySQL's figure (units not yet sold in SQL terms). */
export interface ProductRecord {
  id: number
  name: string
  price: number
  originalPrice: number | null
  stock: number
  imageUrl: string | null
  perUserLimit: number | null
  paymentWindowSeconds: number
  status: ProductStatus
  /** sale window (ISO 8601 UTC), null: no bound */
  saleStartsAt: string | null
  saleEndsAt: string | null
  /** the waiting room (docs/ARCHITECTURE.md §10); off unless asked for */
  waitingRoom: WaitingRoomSettings
  createdAt: string
  updatedAt: string
}

export interface WaitingRoomSettings { enabled: boolean, opensSecondsBefore: number }

export interface NewProductRecord {
  name: string
  stock: number
  price: number
  originalPrice: number | null
  imageUrl: string | null
  perUserLimit: number | null
  paymentWindowSeconds: number
  saleStartsAt: Date | null
  saleEndsAt: Date | null
  waitingRoom: WaitingRoomSettings
}

export interface ProductDetailChanges {
  name?: string
  price?: number
  originalPrice?: number | null
  imageUrl?: string | null
  perUserLimit?: number | null
  paymentWindowSeconds?: number
  saleStartsAt?: Date | null
  saleEndsAt?: Date | null
  waitingRoom?: number
  waitingRoomOpensSeconds?: number
}

export interface PageRequest {
  page: number
  pageSize: number
  name?: string | undefined
  /** on-sale and upcoming products before sold-out and ended ones */
  onSaleFirst?: boolean
  hideSoldOut?: boolean
  /** default `active` (the shop); the admin page finds archived products too */
  status?: ProductStatus | 'all'
  /** a product id, or a substring of the name (the admin page's search) */
  idOrName?: string | undefined
}

// Sold out or over, as MySQL sees it (its stock trails Redis by the orders still being processed):
// good enough to order a page, never used to refuse an order.
const GONE = '(stock = 0 OR (sale_ends_at IS NOT NULL AND sale_ends_at <= UTC_TIMESTAMP(3)))'

export type RestockResult = 'added' | 'not-found' | 'archived' | 'too-much'
export type UpdateResult = 'updated' | 'not-found' | 'archived'
export type ArchiveResult = 'archived' | 'already-archived' | 'not-found'

/** Total MySQL stock a restock may reach: far below INT UNSIGNED, and exact in a Lua number. */
export const MAX_TOTAL_STOCK = 2_000_000_000

interface ProductRow extends RowDataPacket {
  id: number
  name: string
  price: number
  original_price: number | null
  stock: number
  image_url: string | null
  per_user_limit: number | null
  payment_window_seconds: number
  status: ProductStatus
  sale_starts_at: Date | null
  sale_ends_at: Date | null
  waiting_room: number
  waiting_room_opens_seconds: number
  created_at: Date
  updated_at: Date
}

const COLUMNS = 'id, name, price, original_price, stock, image_url, per_user_limit, payment_window_seconds, status, sale_starts_at, sale_ends_at, waiting_room, waiting_room_opens_seconds, created_at, updated_at'

const msOrNull = (date: Date | null): number | null => date === null ? null : date.getTime()

const toRecord = (row: ProductRow): ProductRecord => ({
  id: Number(row.id),
  name: row.name,
  price: row.price,
  originalPrice: row.original_price === null ? null : Number(row.original_price),
  stock: row.stock,
  imageUrl: row.image_url,
  perUserLimit: row.per_user_limit,
  paymentWindowSeconds: Number(row.payment_window_seconds),
  status: row.status,
  saleStartsAt: row.sale_starts_at === null ? null : row.sale_starts_at.toISOString(),
  saleEndsAt: row.sale_ends_at === null ? null : row.sale_ends_at.toISOString(),
  waitingRoom: { enabled: Number(row.waiting_room) === 1, opensSecondsBefore: Number(row.waiting_room_opens_seconds) },
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString()
})

// LIKE treats % _ and \ as wildcards/escapes; a buyer searching "100%" means the characters.
const likeSubstring = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

const DETAIL_COLUMNS: Record<keyof ProductDetailChanges, string> = {
  name: 'name',
  price: 'price',
  originalPrice: 'original_price',
  imageUrl: 'image_url',
  perUserLimit: 'per_user_limit',
  paymentWindowSeconds: 'payment_window_seconds',
  saleStartsAt: 'sale_starts_at',
  saleEndsAt: 'sale_ends_at',
  waitingRoom: 'waiting_room',
  waitingRoomOpensSeconds: 'waiting_room_opens_seconds'
}

export class ProductRepository {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  /** `db`: a transaction's connection (the audit entry commits with the change), else the pool. */
  async create (product: NewProductRecord, db: Connection = this.#pool): Promise<number> {
    const [result] = await db.query<ResultSetHeader>(
      'INSERT INTO products (name, price, original_price, stock, image_url, per_user_limit, payment_window_seconds, sale_starts_at, sale_ends_at, waiting_room, waiting_room_opens_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [product.name, product.price, product.originalPrice, product.stock, product.imageUrl, product.perUserLimit, product.paymentWindowSeconds, product.saleStartsAt, product.saleEndsAt,
        product.waitingRoom.enabled ? 1 : 0, product.waitingRoom.opensSecondsBefore])
    return result.insertId
  }

  async findById (id: number, db: Connection = this.#pool): Promise<ProductRecord | null> {
    const [rows] = await db.query<ProductRow[]>(`SELECT ${COLUMNS} FROM products WHERE id = ?`, [id])
    return rows[0] === undefined ? null : toRecord(rows[0])
  }

  /** Active products, newest first (optionally on-sale and upcoming first, or only those). */
  async page (request: PageRequest): Promise<{ items: ProductRecord[], total: number }> {
    const status = request.status ?? 'active'
    const conditions: string[] = []
    const filter: Array<string | number> = []
    if (status !== 'all') { conditions.push('status = ?'); filter.push(status) }
    if (request.name) { conditions.push('name LIKE ?'); filter.push(likeSubstring(request.name)) }
    // A number searched is an id or digits in a name: the product with that id comes first.
    const id = request.idOrName !== undefined && /^\d{1,15}$/.test(request.idOrName) ? Number(request.idOrName) : null
    if (request.idOrName) {
      conditions.push(id === null ? 'name LIKE ?' : '(id = ? OR name LIKE ?)')
      filter.push(...(id === null ? [] : [id]), likeSubstring(request.idOrName))
    }
    if (request.hideSoldOut === true) conditions.push(`NOT ${GONE}`)
    const where = conditions.length === 0 ? 'TRUE' : conditions.join(' AND ')
    const order = `${id === null ? '' : 'id = ? DESC, '}${request.onSaleFirst === true ? `${GONE} ASC, id DESC` : 'id DESC'}`
    const [[rows], [counts]] = await Promise.all([
      this.#pool.query<ProductRow[]>(`SELECT ${COLUMNS} FROM products WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`,
        [...filter, ...(id === null ? [] : [id]), request.pageSize, (request.page - 1) * request.pageSize]),
      this.#pool.query<Array<RowDataPacket & { total: number }>>(`SELECT COUNT(*) AS total FROM products WHERE ${where}`, filter)
    ])
    return { items: rows.map(toRecord), total: Number(counts[0]?.total ?? 0) }
  }

  /**
   * Changes the details and sale window of an active product (never stock or status), in one guarded
   * statement like addStock: an archived product is not changed (the catalog answers 409 PRODUCT_ARCHIVED).
   */
  async updateDetails (id: number, changes: ProductDetailChanges, db: Connection = this.#pool): Promise<UpdateResult> {
    const assignments: string[] = []
    const values: Array<string | number | Date | null> = []
    for (const [field, column] of Object.entries(DETAIL_COLUMNS) as Array<[keyof ProductDetailChanges, string]>) {
      const value = changes[field]
      if (value === undefined) continue
      assignments.push(`${column} = ?`)
      values.push(value)
    }
    if (assignments.length > 0) {
      // updated_at is set explicitly: ON UPDATE does not fire when the new values equal the old ones.
      const [result] = await db.query<ResultSetHeader>(
        `UPDATE products SET ${assignments.join(', ')}, updated_at = CURRENT_TIMESTAMP(3) WHERE id = ? AND status = 'active'`, [...values, id])
      if (result.affectedRows > 0) return 'updated'
    }
    const current = await this.findById(id, db)
    if (current === null) return 'not-found'
    return current.status === 'archived' ? 'archived' : 'updated'
  }

  /**
   * Adds units to MySQL stock of an active product, in one guarded statement (a concurrent archive
   * cannot slip in between a check and the write).
   */
  async addStock (id: number, quantity: number, db: Connection = this.#pool): Promise<RestockResult> {
    const [result] = await db.query<ResultSetHeader>(
      'UPDATE products SET stock = stock + ? WHERE id = ? AND status = \'active\' AND stock <= ?',
      [quantity, id, MAX_TOTAL_STOCK - quantity])
    if (result.affectedRows > 0) return 'added'
    const current = await this.findById(id, db)
    if (current === null) return 'not-found'
    return current.status === 'archived' ? 'archived' : 'too-much'
  }

  /**
   * `not-found` when the product does not exist. Archiving is idempotent: an archived product is left as it
   * is (its updatedAt says when it was archived, not when someone last asked).
   */
  async archive (id: number, db: Connection = this.#pool): Promise<ArchiveResult> {
    const [result] = await db.query<ResultSetHeader>(
      'UPDATE products SET status = \'archived\', updated_at = CURRENT_TIMESTAMP(3) WHERE id = ? AND status = \'active\'', [id])
    if (result.affectedRows > 0) return 'archived'
    return (await this.findById(id, db)) === null ? 'not-found' : 'already-archived'
  }

  /** What stock sync puts on sale (read after sync has read the product's change counter). */
  async stockOf (id: number): Promise<MysqlStock | null> {
    const [rows] = await this.#pool.query<ProductRow[]>(
      'SELECT stock, status, per_user_limit, sale_starts_at, sale_ends_at FROM products WHERE id = ?', [id])
    const row = rows[0]
    return row === undefined
      ? null
      : {
          stock: row.stock,
          status: row.status,
          perUserLimit: row.per_user_limit,
          window: { startsAt: msOrNull(row.sale_starts_at), endsAt: msOrNull(row.sale_ends_at) }
        }
  }

  /** Every product id (archived too: their status must reach Redis), optionally only those given. */
  async ids (only?: number[]): Promise<number[]> {
    if (only !== undefined && only.length === 0) return []
    const [rows] = only === undefined
      ? await this.#pool.query<Array<RowDataPacket & { id: number }>>('SELECT id FROM products ORDER BY id')
      : await this.#pool.query<Array<RowDataPacket & { id: number }>>('SELECT id FROM products WHERE id IN (?) ORDER BY id', [only])
    return rows.map((r) => Number(r.id))
  }

  /** Name and MySQL stock of every product, for reconciliation. */
  async stockFigures (): Promise<Array<{ id: number, name: string, stock: number }>> {
    const [rows] = await this.#pool.query<ProductRow[]>('SELECT id, name, stock FROM products ORDER BY id')
    return rows.map((r) => ({ id: Number(r.id), name: r.name, stock: r.stock }))
  }
}
