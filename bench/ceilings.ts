import { fork } from 'node:child_process'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { Cluster } from 'ioredis'
import type { Pool } from 'mysql2/promise'
import { StockStore } from '@flash/common/stock'
import { newOrderId, productKeys } from '@flash/common/contracts'
import { runLoad, type LoadRecord } from './load.ts'
import { deleteOrdersOfProduct, insertOrderBatch } from './repository.ts'

// The ceilings the flash sale is measured against, taken in the same run on the same machine so the
// ratios hold however busy the machine is: what bare HTTP, the reservation script alone and batched
// SQL inserts can do here. Each leaves nothing behind.

/** Product ids far above any auto-increment id: the ceilings' keys and rows never meet a real product. */
export const throwawayProductId = (): number => 970_000_000 + Math.floor(Math.random() * 10_000_000)

/**
 * Runs `work` against a bare Fastify route in its own process (bench/bare-server.ts): its base URL and
 * pid (so the floor can read the route's own CPU time), then stops it.
 */
export async function withBareServer<T> (work: (baseUrl: string, pid: number) => Promise<T>): Promise<T> {
  const child = fork(new URL('./bare-server.ts', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  try {
    const [message] = await once(child, 'message') as [{ port: number }]
    return await work(`http://127.0.0.1:${message.port}`, child.pid ?? 0)
  } finally {
    const exited = once(child, 'exit')
    child.disconnect()
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

/** The same autocannon settings as the sale, against a bare Fastify route in its own process. */
export async function httpCeiling (options: { requests: number, connections: number, runTag: string, timeoutSeconds: number, authorizations?: string[] }): Promise<LoadRecord> {
  return await withBareServer((baseUrl) => runLoad({
    baseUrl,
    ordersPath: '/orders',
    productId: 1,
    requests: options.requests,
    connections: options.connections,
    runTag: `${options.runTag}-bare`,
    // The same request bytes as the sale (the bare route verifies nothing).
    ...(options.authorizations ? { authorizations: options.authorizations } : {}),
    timeoutSeconds: options.timeoutSeconds
  }))
}

export interface RateResult { operations: number, seconds: number, perSecond: number }

/**
 * The reservation Lua script alone: StockStore.reserve with `concurrency` calls in flight (ioredis
 * auto-pipelines them per shard, as in the gateway), one unit each, on a throwaway product.
 */
export async function redisCeiling (redis: Cluster, options: { operations: number, concurrency: number }): Promise<RateResult> {
  const store = new StockStore(redis)
  const productId = throwawayProductId()
  const keys = productKeys(productId)
  const outcome = await store.sync(productId, async () => ({ stock: options.operations + 1, status: 'active', perUserLimit: null }))
  if (outcome.outcome !== 'set') throw new Error(`redis ceiling: could not put product ${productId} on sale (${outcome.outcome})`)
  let issued = 0
  let refused = 0
  const worker = async (): Promise<void> => {
    while (issued < options.operations) {
      issued++
      const result = await store.reserve({ productId, orderId: newOrderId(), quantity: 1, userId: null, idempotencyTtlSeconds: 60 })
      if (result.kind !== 'reserved') refused++
    }
  }
  try {
    const start = performance.now()
    await Promise.all(Array.from({ length: options.concurrency }, worker))
    const seconds = (performance.now() - start) / 1000
    if (refused > 0) throw new Error(`redis ceiling: ${refused} reservations refused on a product with enough stock`)
    return { operations: issued, seconds, perSecond: issued / seconds }
  } finally {
    await redis.unlink(keys.stock, keys.info, keys.users, keys.ledger, keys.changes, keys.seq)
  }
}

/**
 * Batched order inserts straight into MySQL: `batch` rows per multi-row INSERT, one transaction each,
 * `concurrency` connections at once. Ids start with 'Z', which no ULID of this millennium does, and
 * the rows belong to a throwaway product; they are deleted afterwards.
 */
export async function sqlCeiling (pool: Pool, options: { rows: number, batch: number, concurrency: number, runTag: string }): Promise<RateResult> {
  const productId = throwawayProductId()
  const prefix = `ZB${options.runTag.replace(/[^0-9A-Z]/gi, '').toUpperCase().slice(-8).padStart(8, '0')}`
  const batches: Array<Array<[string, number, string, Date]>> = []
  const createdAt = new Date()
  for (let first = 0; first < options.rows; first += options.batch) {
    const rows: Array<[string, number, string, Date]> = []
    for (let i = first; i < Math.min(first + options.batch, options.rows); i++) {
      rows.push([`${prefix}${String(i).padStart(26 - prefix.length, '0')}`, productId, `ceiling-${i}`, createdAt])
    }
    batches.push(rows)
  }
  let nextBatch = 0
  const worker = async (): Promise<void> => {
    const connection = await pool.getConnection()
    try {
      for (let b = nextBatch++; b < batches.length; b = nextBatch++) await insertOrderBatch(connection, batches[b] ?? [])
    } finally {
      connection.release()
    }
  }
  try {
    const start = performance.now()
    await Promise.all(Array.from({ length: options.concurrency }, worker))
    const seconds = (performance.now() - start) / 1000
    return { operations: options.rows, seconds, perSecond: options.rows / seconds }
  } finally {
    await deleteOrdersOfProduct(pool, productId)
  }
}
