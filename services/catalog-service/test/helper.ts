import type { Test } from 'tap'
import { newOrderId, productKeys, type App, type Cluster, type Pool, type ReserveOutcome, type StockStore } from '@flash/common'
import { startTestApp, uniqueName } from '@flash/common/test-support'
import type { RowDataPacket } from 'mysql2/promise'
import { buildApp, type AppDeps } from '../src/app.ts'
import { loadCatalogConfig, type CatalogConfig } from '../src/config.ts'
import type { Product } from '../src/schemas.ts'

// The catalog's part of the test support (@flash/common/test-support has the rest: testStack,
// createProduct, waitUntil, uniqueName): the real catalog app against the local stack, its admin
// API, and the gateway's reservation step that tests play.

export const ADMIN_TOKEN = 'catalog-test-admin-token'
export const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
/** signs buyer sessions in the tests' apps */
export const AUTH_JWT_SECRET = 'catalog-test-auth-secret-0123456789abcdef'

export function testConfig (overrides: Record<string, string> = {}): CatalogConfig {
  return loadCatalogConfig({ ...process.env, LOG_LEVEL: 'silent', ADMIN_TOKEN, AUTH_JWT_SECRET, ...overrides })
}

export async function buildTestApp (t: Test, deps: AppDeps = {}, overrides: Record<string, string> = {}): Promise<App> {
  return await startTestApp(t, () => buildApp(testConfig(overrides), deps))
}

/** POST /products: the catalog's own API (the shared createProduct writes MySQL and Redis directly). */
export async function postProduct (app: App, body: Record<string, unknown> = {}): Promise<Product> {
  const res = await app.inject({ method: 'POST', url: '/products', headers: admin, payload: { name: uniqueName('product'), stock: 10, ...body } })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  return res.json() as Product
}

export interface MysqlProduct { id: number, name: string, price: number, stock: number, image_url: string | null, per_user_limit: number | null, status: string }

export async function mysqlProduct (mysql: Pool, id: number): Promise<MysqlProduct | undefined> {
  const [rows] = await mysql.query<Array<RowDataPacket & MysqlProduct>>(
    'SELECT id, name, price, stock, image_url, per_user_limit, status FROM products WHERE id = ?', [id])
  const row = rows[0]
  return row === undefined ? undefined : { ...row, id: Number(row.id) }
}

export async function countProductsNamed (mysql: Pool, prefix: string): Promise<number> {
  const [rows] = await mysql.query<Array<RowDataPacket & { n: number }>>('SELECT COUNT(*) AS n FROM products WHERE name LIKE ?', [`${prefix}%`])
  return Number(rows[0]?.n ?? 0)
}

/** Every Redis key of one product that exists, with its value (to prove a request wrote nothing). */
export async function redisKeysOf (redis: Cluster, id: number): Promise<Record<string, unknown>> {
  const keys = productKeys(id)
  const out: Record<string, unknown> = {}
  out.stock = await redis.get(keys.stock)
  out.info = await redis.hgetall(keys.info)
  out.ledger = await redis.hgetall(keys.ledger)
  out.changes = await redis.hgetall(keys.changes)
  out.seq = await redis.get(keys.seq)
  return out
}

/** The gateway's step 2: reserve units in Redis. */
export function reserve (store: StockStore, productId: number, quantity = 1, extra: { userId?: string, now?: number, orderId?: string } = {}): Promise<ReserveOutcome> {
  return store.reserve({ productId, orderId: extra.orderId ?? newOrderId(), quantity, userId: extra.userId ?? null, idempotencyTtlSeconds: 60, now: extra.now })
}
