import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import type { Consumer, KafkaMessage } from 'kafkajs'
import { createKafka, productKeys, decodeMessage, sleep, createAccessTokenSigner, type FinalOrderStatus, type OrderMessage, type App } from '@flash/common'
import { createTopics, startTestApp, type TestStack } from '@flash/common/test-support'
import { loadGatewayConfig, type GatewayConfig } from '../src/config.ts'
import { buildApp } from '../src/app.ts'

// The gateway's part of the test support (@flash/common/test-support has the rest: testStack,
// createProduct, waitUntil): every file publishes to its own topic, so no running processor consumes
// its orders.

interface Tap {
  teardown: (fn: () => unknown) => void
}

const silent = pino({ level: 'silent' })
/** the gateway verifies buyers' tokens with this; asBuyer() signs them like the catalog's login */
export const AUTH_JWT_SECRET = 'gateway-test-auth-secret-0123456789abcdef'
export const ADMIN_TOKEN = 'gateway-test-admin-token'
const base = loadGatewayConfig({ ...process.env, LOG_LEVEL: 'silent', AUTH_JWT_SECRET, ADMIN_TOKEN })
const signAccessToken = createAccessTokenSigner(AUTH_JWT_SECRET)
/** headers of a signed-in buyer whose id (`sub`, the orders' userId) is `userId` */
export const asBuyer = (userId: string): Record<string, string> => ({ authorization: `Bearer ${signAccessToken({ id: userId, username: `name-of-${userId}` })}` })
export const asAdmin: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` }

const kafka = createKafka({ brokers: base.KAFKA_BROKERS, clientId: 'gateway-test', logger: silent })

/** A topic of this test file's own, 12 partitions like `orders`; deleted at the end. */
export async function createTestTopic (t: Tap): Promise<string> {
  const topic = `gateway-test-${randomUUID()}`
  const admin = kafka.admin()
  await admin.connect()
  await createTopics(admin, [{ topic, numPartitions: 12 }])
  t.teardown(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.disconnect()
  })
  return topic
}

export function testConfig (topic: string, overrides: Record<string, string> = {}): GatewayConfig {
  return loadGatewayConfig({
    ...process.env,
    LOG_LEVEL: 'silent',
    KAFKA_ORDERS_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    // Every file's requests come from 127.0.0.1 and share one counter: only the rate-limit test limits.
    RATE_LIMIT_MAX: '100000000',
    AUTH_JWT_SECRET,
    ADMIN_TOKEN,
    // Test processes block their event loop now and then (imports, many injects at once): only the
    // overload test sheds load.
    OVERLOAD_EVENT_LOOP_DELAY_MS: '0',
    // Waiting rooms: no test gateway admits in other files' rooms (waiting-room-pacer.test.ts runs
    // pacers of its own over its own product).
    ROOM_TICK_MS: '0',
    ...overrides
  })
}

/** The real app; waits until it is ready (its producer connected), unless Kafka is meant to be down. */
export async function buildTestApp (t: Tap, config: GatewayConfig, options: { waitForReady?: boolean } = {}): Promise<App> {
  return await startTestApp(t, () => buildApp(config), options)
}

/** An order row as the processor would write it. */
export async function insertOrder (stack: Pick<TestStack, 'mysql'>, order: { id: string, productId: number, userId: string | null, quantity: number, status: FinalOrderStatus, reason?: string | null, createdAt?: Date }): Promise<void> {
  await stack.mysql.execute('INSERT INTO orders (id, product_id, user_id, quantity, status, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [order.id, order.productId, order.userId, order.quantity, order.status, order.reason ?? null, order.createdAt ?? new Date()])
}

export async function tombstoneExists (stack: Pick<TestStack, 'redis'>, productId: number, orderId: string): Promise<boolean> {
  return (await stack.redis.exists(`${productKeys(productId).voidPrefix}${orderId}`)) === 1
}

export interface Received { key: string, requestId: string | undefined, partition: number, message: OrderMessage }

/**
 * Reads a topic from the beginning with a fresh consumer group and keeps every message, so a test can
 * wait for what it published (bounded: `waitFor` gives up after `timeoutMs`).
 */
export class TopicReader {
  readonly received: Received[] = []
  readonly #consumer: Consumer
  readonly #topic: string

  constructor (topic: string) {
    this.#topic = topic
    this.#consumer = kafka.consumer({ groupId: `gateway-test-${randomUUID()}`, maxWaitTimeInMs: 100 })
  }

  async start (t: Tap): Promise<this> {
    t.teardown(() => this.#consumer.disconnect())
    await this.#consumer.connect()
    await this.#consumer.subscribe({ topic: this.#topic, fromBeginning: true })
    await this.#consumer.run({
      eachMessage: async ({ partition, message }) => { this.received.push(toReceived(partition, message)) }
    })
    return this
  }

  async waitFor (predicate: (r: Received) => boolean, count = 1, timeoutMs = 30_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const matching = this.received.filter(predicate)
      if (matching.length >= count || Date.now() > deadline) return matching
      await sleep(50)
    }
  }
}

function toReceived (partition: number, message: KafkaMessage): Received {
  const decoded = decodeMessage(message.value)
  if (!decoded.ok) throw new Error(`undecodable message on the test topic: ${decoded.reason}`)
  const header = message.headers?.['x-request-id']
  return { key: String(message.key), requestId: header === undefined ? undefined : String(header), partition, message: decoded.message }
}

export const post = (app: App, body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/orders', headers: { 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' ? body : JSON.stringify(body) })
