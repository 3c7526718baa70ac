import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { pino } from 'pino'
import type { RowDataPacket } from 'mysql2/promise'
import {
  createKafka, newOrderId, orderRecord, MessageType, SCHEMA_VERSION,
  type OrderPlaced, type OrderCancelRequested, type OrderMessage, type App
} from '@flash/common'
import { loadProcessorConfig, type ProcessorConfig } from '../src/config.ts'
import { loadGatewayConfig, type GatewayConfig } from '../../order-gateway/src/config.ts'
import { buildApp, type ProcessorDeps } from '../src/app.ts'
import { createTopics, openStack, waitUntil, type TestStack } from '@flash/common/test-support'

// The processor's part of the test support (@flash/common/test-support has the rest: the clients,
// createProduct, waitUntil). Every test file gets its own topics and consumer group, so the processor
// `make local` runs (on `orders`) never takes these messages.

/** The shared test stack plus this file's own Kafka topics and a producer that plays the gateway. */
export interface Stack extends TestStack {
  config: ProcessorConfig
  kafka: ReturnType<typeof createKafka>
  /** publishes messages to the test's orders topic the way the gateway does (key = order id) */
  publish: (messages: OrderMessage[]) => Promise<void>
  /** publishes raw values (poison) */
  publishRaw: (values: Array<{ key: string, value: string }>) => Promise<void>
  close: () => Promise<void>
}

export async function createStack (name: string, partitions = 12): Promise<Stack> {
  const suffix = `${name}-${randomUUID().slice(0, 8)}`
  const config = loadProcessorConfig({
    ...process.env,
    KAFKA_ORDERS_TOPIC: `test-orders-${suffix}`,
    KAFKA_DLQ_TOPIC: `test-orders-dlq-${suffix}`,
    KAFKA_GROUP_ID: `test-processor-${suffix}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    PROCESSOR_PORT: '3003'
  })
  const clients = openStack(process.env)
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `test-${name}`, logger: pino({ level: 'silent' }) })
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [{ topic: config.KAFKA_ORDERS_TOPIC, numPartitions: partitions }, { topic: config.KAFKA_DLQ_TOPIC, numPartitions: 1 }])
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  return {
    ...clients,
    config,
    kafka,
    publish: async (messages) => {
      for (let i = 0; i < messages.length; i += 1000) {
        await producer.send({
          topic: config.KAFKA_ORDERS_TOPIC,
          acks: -1,
          messages: messages.slice(i, i + 1000).map(orderRecord)
        })
      }
    },
    publishRaw: async (values) => {
      await producer.send({ topic: config.KAFKA_ORDERS_TOPIC, acks: -1, messages: values })
    },
    close: async () => {
      await producer.disconnect()
      await admin.deleteTopics({ topics: [config.KAFKA_ORDERS_TOPIC, config.KAFKA_DLQ_TOPIC] }).catch(() => {})
      await admin.disconnect()
      await clients.close()
    }
  }
}

/** Builds the processor app for the test's topics and waits until it is in the group. */
export async function startProcessor (stack: Stack, overrides: Partial<ProcessorConfig> = {}, deps: ProcessorDeps = {}): Promise<App> {
  const app = await buildApp({ ...stack.config, ...overrides }, deps)
  await app.ready()
  await until(async () => app.orderConsumer.state.joined, 30_000, 'the processor joins its group')
  return app
}

/** waitUntil for a yes/no check. */
export async function until (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await waitUntil(what, async () => (await check()) || undefined, timeoutMs)
}

async function readProductStock (stack: Stack, productId: number) {
  const [rows] = await stack.mysql.query<RowDataPacket[]>('SELECT stock, status, per_user_limit FROM products WHERE id = ?', [productId])
  const row = rows[0]
  if (row === undefined) return null
  return { stock: Number(row.stock), status: row.status as 'active' | 'archived', perUserLimit: row.per_user_limit === null ? null : Number(row.per_user_limit) }
}

export async function sqlStock (stack: Stack, productId: number): Promise<number> {
  const product = await readProductStock(stack, productId)
  if (product === null) throw new Error(`product ${productId} not found`)
  return product.stock
}

/** What the gateway does before it publishes: reserve in Redis. Null when Redis refused. */
export async function reserve (stack: Stack, productId: number, quantity: number, userId: string | null = null): Promise<OrderPlaced | null> {
  const orderId = newOrderId()
  const outcome = await stack.store.reserve({ productId, orderId, quantity, userId, idempotencyTtlSeconds: 60 })
  if (outcome.kind !== 'reserved') return null
  return placedMessage(productId, quantity, userId, orderId)
}

export function placedMessage (productId: number, quantity: number, userId: string | null, orderId = newOrderId()): OrderPlaced {
  return {
    type: MessageType.ORDER_PLACED,
    version: SCHEMA_VERSION,
    orderId,
    productId,
    quantity,
    userId,
    requestId: `req-${randomUUID()}`,
    createdAt: new Date().toISOString()
  }
}

export function cancelMessage (productId: number, orderId: string): OrderCancelRequested {
  return {
    type: MessageType.ORDER_CANCEL_REQUESTED,
    version: SCHEMA_VERSION,
    orderId,
    productId,
    requestId: `req-${randomUUID()}`,
    requestedAt: new Date().toISOString()
  }
}

export interface OrderRow { id: string, product_id: number, user_id: string | null, quantity: number, status: string, reason: string | null, request_id: string | null }

export async function orderRows (stack: Stack, orderIds: string[]): Promise<OrderRow[]> {
  const rows: OrderRow[] = []
  for (let i = 0; i < orderIds.length; i += 1000) {
    const ids = orderIds.slice(i, i + 1000)
    const [found] = await stack.mysql.query<RowDataPacket[]>(
      `SELECT id, product_id, user_id, quantity, status, reason, request_id FROM orders WHERE id IN (${ids.map(() => '?').join(',')})`, ids)
    for (const row of found) rows.push({ ...row, product_id: Number(row.product_id), quantity: Number(row.quantity) } as OrderRow)
  }
  return rows
}

export async function productOrders (stack: Stack, productId: number): Promise<OrderRow[]> {
  const [rows] = await stack.mysql.query<RowDataPacket[]>(
    'SELECT id, product_id, user_id, quantity, status, reason, request_id FROM orders WHERE product_id = ? ORDER BY id', [productId])
  return rows.map((row) => ({ ...row, product_id: Number(row.product_id), quantity: Number(row.quantity) }) as OrderRow)
}

/** Polls MySQL until every order has a row (bounded: never sleep-and-hope). */
export async function waitForOrders (stack: Stack, orderIds: string[], timeoutMs = 60_000): Promise<OrderRow[]> {
  let rows: OrderRow[] = []
  await until(async () => {
    rows = await orderRows(stack, orderIds)
    return rows.length === orderIds.length
  }, timeoutMs, `${orderIds.length} orders are written`)
  return rows
}

/**
 * The product's Redis stock once the processor has settled its reservations: a batch commits in MySQL
 * first and finishes in Redis after, so its rows can be read while its reservations are still in the
 * ledger. Polls until the ledger is empty, for at most `timeoutMs`; the last snapshot either way (the
 * caller asserts on it).
 */
export async function settledSnapshot (stack: Stack, productId: number, timeoutMs = 15_000): Promise<Awaited<ReturnType<Stack['store']['snapshot']>>> {
  return await waitUntil('the ledger is settled', async () => {
    const snap = await stack.store.snapshot(productId)
    return snap.ledger.length === 0 ? snap : undefined
  }, timeoutMs, 50).catch(async () => await stack.store.snapshot(productId))
}

/** Polls until `check` holds on the product's orders, e.g. a cancellation landed. */
export async function waitForStatus (stack: Stack, orderId: string, status: string, timeoutMs = 60_000): Promise<void> {
  await until(async () => (await orderRows(stack, [orderId]))[0]?.status === status, timeoutMs, `order ${orderId} is ${status}`)
}

/** Polls until the group has committed every partition of the test topic up to its end. */
export async function waitForCaughtUp (stack: Stack, groupId = stack.config.KAFKA_GROUP_ID, timeoutMs = 60_000): Promise<void> {
  const admin = stack.kafka.admin()
  await admin.connect()
  try {
    await until(async () => {
      const ends = await admin.fetchTopicOffsets(stack.config.KAFKA_ORDERS_TOPIC)
      const [committed] = await admin.fetchOffsets({ groupId, topics: [stack.config.KAFKA_ORDERS_TOPIC] })
      return ends.every((end) => {
        const done = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1'
        return end.high === '0' || done === end.high
      })
    }, timeoutMs, `group ${groupId} has committed everything`)
  } finally {
    await admin.disconnect()
  }
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

/** A gateway publishing to the stack's own topic, for the tests that run the whole order path. */
export function gatewayConfigFor (stack: Stack, secrets: { AUTH_JWT_SECRET: string, ADMIN_TOKEN: string }): GatewayConfig {
  return loadGatewayConfig({
    ...process.env,
    LOG_LEVEL: 'error',
    KAFKA_ORDERS_TOPIC: stack.config.KAFKA_ORDERS_TOPIC,
    KAFKA_DLQ_TOPIC: stack.config.KAFKA_DLQ_TOPIC,
    // Every injected request comes from one address: the rate limit is another test's subject.
    RATE_LIMIT_MAX: '100000000',
    ...secrets,
    OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
    // no waiting room here admits anyone (the pacer has tests of its own)
    ROOM_TICK_MS: '0'
  })
}
