import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { createMysqlPool, createRedisCluster, newOrderId, productKeys, StockStore, type App, type Cluster, type Pool, type ReserveOutcome } from '@flash/common'
import type { RowDataPacket } from 'mysql2/promise'
import { buildApp, type AppDeps } from '../src/app.ts'
import { loadCatalogConfig, type CatalogConfig } from '../src/config.ts'
import type { Product } from '../src/schemas.ts'

// Builds the real catalog against the real local stack (`make local`), plus separate clients through
// which the tests look at MySQL and Redis themselves, and play the gateway and the processor.
// Tests run in parallel with other services' tests: they create their own products and never assume
// global counts, truncate tables or flush Redis.

export const ADMIN_TOKEN = 'catalog-test-admin-token'
export const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
/** issue 13: signs buyer sessions in the tests' apps */
export const AUTH_JWT_SECRET = 'catalog-test-auth-secret-0123456789abcdef'

export function testConfig (overrides: Record<string, string> = {}): CatalogConfig {
  return loadCatalogConfig({ ...process.env, LOG_LEVEL: 'silent', ADMIN_TOKEN, AUTH_JWT_SECRET, ...overrides })
}

export async function buildTestApp (t: Test, deps: AppDeps = {}, overrides: Record<string, string> = {}): Promise<App> {
  const app = await buildApp(testConfig(overrides), deps)
  t.teardown(() => app.close())
  return app
}

export interface Stack { pool: Pool, redis: Cluster, store: StockStore }

/** The test's own view of MySQL and Redis (and the gateway's StockStore), closed at teardown. */
export function stack (t: Test): Stack {
  const config = testConfig()
  const pool = createMysqlPool(config)
  const redis = createRedisCluster(config.REDIS_NODES)
  t.teardown(async () => { await Promise.allSettled([redis.quit(), pool.end()]) })
  return { pool, redis, store: new StockStore(redis) }
}

export const uniqueName = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`

export async function createProduct (app: App, body: Record<string, unknown> = {}): Promise<Product> {
  const res = await app.inject({ method: 'POST', url: '/products', headers: admin, payload: { name: uniqueName('product'), stock: 10, ...body } })
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`)
  return res.json() as Product
}

export interface MysqlProduct { id: number, name: string, price: number, stock: number, image_url: string | null, per_user_limit: number | null, status: string }

export async function mysqlProduct (pool: Pool, id: number): Promise<MysqlProduct | undefined> {
  const [rows] = await pool.query<Array<RowDataPacket & MysqlProduct>>(
    'SELECT id, name, price, stock, image_url, per_user_limit, status FROM products WHERE id = ?', [id])
  const row = rows[0]
  return row === undefined ? undefined : { ...row, id: Number(row.id) }
}

export async function countProductsNamed (pool: Pool, prefix: string): Promise<number> {
  const [rows] = await pool.query<Array<RowDataPacket & { n: number }>>('SELECT COUNT(*) AS n FROM products WHERE name LIKE ?', [`${prefix}%`])
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
