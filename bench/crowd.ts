import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool as HttpPool } from 'undici'
import { createKafka, createLogger, productKeys, RoomStore, type Cluster } from '@flash/common'
import { createProduct, createTopics, openStack } from '@flash/common/test-support'
import { mintBuyers, benchAuthSecret, type BenchBuyer } from './buyers.ts'

// The `crowd` scenario (docs/ARCHITECTURE.md §10): BUYERS signed-in buyers want STOCK units. The same
// crowd twice, one after the other, against a gateway of this checkout started for the run (its own
// Kafka topic, so no processor takes the orders; stock and limits are Redis's as in a sale):
//   room     the product's waiting room is on: every buyer joins before the start, polls as told,
//            buys once admitted (one unit)
//   no room  every buyer sends orders until one is accepted or the product is sold out, retrying a
//            refusal after RETRY_MS (what a crowd does today)
// Reported: join p99, polls, time from admission to accepted order (p99), requests past 2 s, units
// sold and time to sell out, refusals at the gateway, requests in all, the room's Redis memory.
//
//   node bench/crowd.ts                         BUYERS=2000 STOCK=200 CONNECTIONS=200
// A smoke-sized run by default: this measures the shape, not the ceiling (the load generator and the
// gateway share the machine).

const env = process.env
const BUYERS = Number(env.BUYERS ?? 2000)
const STOCK = Number(env.STOCK ?? 200)
const CONNECTIONS = Number(env.CONNECTIONS ?? 200)
const START_IN_MS = Number(env.START_IN_MS ?? 5000)
const RETRY_MS = Number(env.RETRY_MS ?? 200)
const PORT = Number(env.CROWD_GATEWAY_PORT ?? 3092)
const POLL_MS = Number(env.ROOM_POLL_MS ?? 1000)

interface Timed { ms: number, status: number }

const p = (values: number[], q: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
}

class Client {
  readonly pool: HttpPool
  readonly timings: Timed[] = []
  constructor (url: string) { this.pool = new HttpPool(url, { connections: CONNECTIONS, pipelining: 1 }) }
  async call (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number, json: Record<string, unknown>, ms: number }> {
    const started = performance.now()
    const res = await this.pool.request({
      method,
      path,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.body.text()
    const ms = performance.now() - started
    this.timings.push({ ms, status: res.statusCode })
    return { status: res.statusCode, json: text === '' ? {} : JSON.parse(text) as Record<string, unknown>, ms }
  }
}

async function startGateway (topic: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['services/order-gateway/src/server.ts'], {
    env: {
      ...env,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      GATEWAY_PORT: String(PORT),
      KAFKA_ORDERS_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      AUTH_JWT_SECRET: benchAuthSecret(),
      RATE_LIMIT_MAX: '100000000',
      ROOM_POLL_MS: String(POLL_MS),
      ROOM_TICK_MS: env.ROOM_TICK_MS ?? '100'
    },
    stdio: ['ignore', env.CROWD_GATEWAY_LOG === undefined ? 'ignore' : 'inherit', 'inherit']
  })
  for (let i = 0; i < 300; i++) {
    const ready = await fetch(`http://127.0.0.1:${PORT}/health/ready`).then((r) => r.ok, () => false)
    if (ready) return child
    await sleep(100)
  }
  child.kill('SIGTERM')
  throw new Error('the crowd gateway did not become ready')
}

async function redisNow (redis: Cluster, productId: number): Promise<number> {
  const [s, us] = await redis.eval("return redis.call('TIME')", 1, productKeys(productId).info) as [string, string]
  return Number(s) * 1000 + Math.floor(Number(us) / 1000)
}

async function withRoom (client: Client, buyers: BenchBuyer[], productId: number, startsAt: number): Promise<Record<string, unknown>> {
  const joins: number[] = []
  const toOrder: number[] = []
  let polls = 0
  let refusals = 0
  let sold = 0
  let lastSaleAt = 0
  await Promise.all(buyers.map(async (buyer) => {
    const headers = { authorization: buyer.authorization }
    // A join shed by an overloaded gateway (503, Retry-After: 1) is tried again, as the shop would.
    let joined = await client.call('POST', `/rooms/${productId}/join`, headers)
    for (let attempt = 1; joined.status === 503 && attempt < 10; attempt++) {
      await sleep(1000)
      joined = await client.call('POST', `/rooms/${productId}/join`, headers)
    }
    joins.push(joined.ms)
    let status = joined.json
    for (;;) {
      if (status.state === 'sold-out' || status.state === 'none' || joined.status !== 200) return
      if (status.state === 'admitted' && typeof status.pass === 'string') {
        const admittedAt = performance.now()
        const order = await client.call('POST', '/orders', { ...headers, 'x-room-pass': status.pass, 'idempotency-key': randomUUID() }, { productId, quantity: 1 })
        if (order.status === 202) {
          sold++
          lastSaleAt = Date.now()
          toOrder.push(performance.now() - admittedAt)
        } else {
          refusals++
        }
        return
      }
      await sleep(Number(status.pollAfterMs ?? POLL_MS))
      const polled = await client.call('GET', `/rooms/${productId}/status`, headers)
      polls++
      status = polled.json
    }
  }))
  return { joinP99Ms: p(joins, 0.99), polls, admissionToAcceptedP99Ms: p(toOrder, 0.99), sold, refusalsAtGateway: refusals, sellOutMsAfterStart: lastSaleAt === 0 ? null : lastSaleAt - startsAt }
}

async function withoutRoom (client: Client, buyers: BenchBuyer[], productId: number, startsAt: number): Promise<Record<string, unknown>> {
  let sold = 0
  let refusals = 0
  let lastSaleAt = 0
  await Promise.all(buyers.map(async (buyer) => {
    const headers = { authorization: buyer.authorization }
    const key = randomUUID()
    for (;;) {
      const res = await client.call('POST', '/orders', { ...headers, 'idempotency-key': key }, { productId, quantity: 1 })
      if (res.status === 202) { sold++; lastSaleAt = Date.now(); return }
      refusals++
      if (res.json.code === 'INSUFFICIENT_STOCK' && res.json.available === 0) return
      await sleep(RETRY_MS)
    }
  }))
  return { sold, refusalsAtGateway: refusals, sellOutMsAfterStart: lastSaleAt === 0 ? null : lastSaleAt - startsAt }
}

const summary = (client: Client): Record<string, unknown> => ({
  requests: client.timings.length,
  p99Ms: p(client.timings.map((t) => t.ms), 0.99),
  past2s: client.timings.filter((t) => t.ms > 2000).length,
  statuses: client.timings.reduce<Record<number, number>>((acc, t) => { acc[t.status] = (acc[t.status] ?? 0) + 1; return acc }, {})
})

async function crowd (): Promise<void> {
  const stack = openStack()
  const rooms = new RoomStore(stack.redis)
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS ?? '127.0.0.1:9092', clientId: 'crowd-bench', logger: createLogger('crowd-bench', 'silent') })
  const admin = kafka.admin()
  await admin.connect()
  const topic = `crowd-bench-${randomUUID()}`
  await createTopics(admin, [{ topic, numPartitions: 12 }])
  const gateway = await startGateway(topic)
  const runTag = randomUUID().slice(0, 8)
  try {
    const report: Record<string, unknown> = { buyers: BUYERS, stock: STOCK, connections: CONNECTIONS }
    for (const room of [true, false]) {
      const product = await createProduct(stack, { stock: STOCK, perUserLimit: 1, name: `crowd-${room ? 'room' : 'no-room'}-${runTag}` })
      const startsAt = await redisNow(stack.redis, product.id) + START_IN_MS
      await stack.mysql.query('UPDATE products SET sale_starts_at = ? WHERE id = ?', [new Date(startsAt), product.id])
      if (room) await rooms.configure(product.id, { enabled: true, opensSecondsBefore: 3600 })
      await stack.store.setInfo(product.id, { window: { startsAt, endsAt: null } })
      await sleep(300)
      const buyers = mintBuyers(BUYERS, `${runTag}-${room ? 'r' : 'n'}`)
      const client = new Client(`http://127.0.0.1:${PORT}`)
      if (!room) await sleep(Math.max(0, startsAt - Date.now() - 200))
      const outcome = room ? await withRoom(client, buyers, product.id, startsAt) : await withoutRoom(client, buyers, product.id, startsAt)
      const keys = productKeys(product.id)
      const memory = room ? (await Promise.all([keys.room, keys.roomQueue, keys.roomSeen, keys.roomAdmitted].map(async (k) => Number(await stack.redis.call('MEMORY', 'USAGE', k) ?? 0)))).reduce((a, b) => a + b, 0) : null
      report[room ? 'room' : 'noRoom'] = { productId: product.id, ...outcome, ...summary(client), roomMemoryBytes: memory }
      if (room) await rooms.configure(product.id, { enabled: false, opensSecondsBefore: 3600 })
      await client.pool.close()
    }
    console.log(JSON.stringify(report, null, 2))
  } finally {
    gateway.kill('SIGTERM')
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.disconnect()
    await stack.close()
  }
}

await crowd()
