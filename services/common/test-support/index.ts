import { randomUUID } from 'node:crypto'
import type { ResultSetHeader } from 'mysql2/promise'
import type { Admin, ITopicConfig } from 'kafkajs'
import { loadConfig, MysqlEnv, RedisEnv } from '../src/platform/config.ts'
import { createMysqlPool, type Pool } from '../src/clients/mysql.ts'
import { createRedisCluster, type Cluster } from '../src/clients/redis.ts'
import type { App } from '../src/platform/app.ts'
import type { ProductStatus } from '../src/contracts/schemas.ts'
import { sleep } from '../src/platform/sleep.ts'
import { StockStore } from '../src/stock/store.ts'

// The one test-support module of every suite that runs against the local stack (`make local`):
// the test's own clients on MySQL and Redis, one way to build a service's app, one product factory.
// Suites run in parallel with each other and with the running services: they make their own products
// and topics, and never assume global counts, truncate tables or flush Redis.

/** What tap's `t` offers that these helpers use (kept structural so support code needs no tap types). */
export interface Teardown { teardown: (fn: () => unknown) => void }

/** A test's own view of MySQL and Redis, and the StockStore every service uses on that Redis. */
export interface TestStack {
  mysql: Pool
  redis: Cluster
  store: StockStore
  close: () => Promise<void>
}

/** Clients on the stack the environment names (defaults: `make local`); the caller closes them. */
export function openStack (env: NodeJS.ProcessEnv = process.env, options: { connectionLimit?: number } = {}): TestStack {
  const config = loadConfig({ ...MysqlEnv, ...RedisEnv }, env)
  const mysql = createMysqlPool(config, { connectionLimit: options.connectionLimit ?? 5 })
  const redis = createRedisCluster(config.REDIS_NODES)
  return {
    mysql,
    redis,
    store: new StockStore(redis),
    close: async () => { await Promise.allSettled([redis.quit(), mysql.end()]) }
  }
}

/** openStack, closed when the test ends. */
export function testStack (t: Teardown): TestStack {
  const stack = openStack()
  t.teardown(() => stack.close())
  return stack
}

/**
 * Builds a service's real app (its own buildApp with a test config), closes it when the test ends,
 * and waits until /health/ready answers 200, unless a dependency is meant to be down.
 */
export async function startTestApp<A extends App> (t: Teardown, build: () => Promise<A>, options: { waitForReady?: boolean } = {}): Promise<A> {
  const app = await build()
  t.teardown(() => app.close())
  if (options.waitForReady ?? true) {
    await waitUntil('the app is ready', async () => (await app.inject('/health/ready')).statusCode === 200 || undefined, 30_000)
  }
  return app
}

export const uniqueName = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`

export interface ProductSpec {
  stock: number
  perUserLimit?: number | null
  status?: ProductStatus
  /** 0 (the default): a free product, orders confirmed at once; above 0 they wait for payment */
  price?: number
  /** seconds to pay for a priced product's order */
  paymentWindowSeconds?: number
  name?: string
}

export interface TestProduct { id: number, name: string, stock: number }

/**
 * A product in MySQL, put on sale in Redis the way catalog-service does (StockStore.sync). For tests
 * of the catalog's own API, create through the API instead.
 */
export async function createProduct (stack: Pick<TestStack, 'mysql' | 'store'>, spec: ProductSpec): Promise<TestProduct> {
  const name = spec.name ?? uniqueName('test-product')
  const status = spec.status ?? 'active'
  const perUserLimit = spec.perUserLimit ?? null
  const [result] = await stack.mysql.execute<ResultSetHeader>(
    'INSERT INTO products (name, price, stock, per_user_limit, status, payment_window_seconds) VALUES (?, ?, ?, ?, ?, ?)',
    [name, spec.price ?? 0, spec.stock, perUserLimit, status, spec.paymentWindowSeconds ?? 600])
  const id = Number(result.insertId)
  const synced = await stack.store.sync(id, async () => ({ stock: spec.stock, status, perUserLimit }))
  if (synced.outcome !== 'set') throw new Error(`could not put product ${id} on sale: ${synced.outcome}`)
  return { id, name, stock: spec.stock }
}

/**
 * Polls `probe` until it returns something other than undefined, and returns that; throws at the
 * deadline with the last error (bounded: never sleep-and-hope).
 */
export async function waitUntil<T> (what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`)
    }
    await sleep(everyMs)
  }
}

/**
 * Creates Kafka topics and waits until every partition has a leader. kafkajs's own `waitForLeaders`
 * asks the controller for metadata right after the create and gives up on UNKNOWN_TOPIC_OR_PARTITION,
 * which a KRaft broker answers until its metadata cache has caught up with the new topic (a test
 * file then died before its first test, now and then); this wait treats that answer as "not yet".
 */
export async function createTopics (admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false })
  const names = topics.map((topic) => topic.topic)
  await waitUntil(`topics ${names.join(', ')} have leaders`, async () => {
    const metadata = await admin.fetchTopicMetadata({ topics: names })
    const led = metadata.topics.every((topic) => topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0))
    return metadata.topics.length === names.length && led ? true : undefined
  }, timeoutMs)
}

/**
 * Redis's available stock of a product once it equals `expected`, or what it is at the bound: Redis
 * follows MySQL after the COMMIT (finish-change), so a test that just saw a row change waits for it.
 */
export async function availableOnceEqual (store: Pick<StockStore, 'snapshot'>, productId: number, expected: number, timeoutMs = 10_000): Promise<number | null> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const available = (await store.snapshot(productId)).available
    if (available === expected || Date.now() > deadline) return available
    await sleep(50)
  }
}
