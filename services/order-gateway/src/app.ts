import underPressure from '@fastify/under-pressure'
import { parseCookie } from 'cookie'
import type { FastifyRequest } from 'fastify'
import {
  createPlatformApp, createMysqlPool, pingMysql, createRedisCluster, pingRedis, createKafka, StockStore, LiveStore,
  AppError, ErrorCode, sleep, resolveAuthSecret, resolveAdminToken, createOperatorAuth, createAccessTokenVerifier, createReceipts, RoomStore, createRoomPasses,
  type App, type Logger, type Pool, type Cluster, type Kafka
} from '@flash/common'
import { roomPollLimits, type GatewayConfig } from './config.ts'
import { gatewayMetrics } from './metrics.ts'
import { OrderPublisher } from './publishing/publisher.ts'
import { OrderRepository } from './orders/repository.ts'
import { PendingOrders } from './orders/pending.ts'
import { UnsettledReservations } from './orders/unsettled.ts'
import { OrderPlacement } from './orders/placement.ts'
import { OrderCancellation } from './orders/cancellation.ts'
import { orderRoutes } from './routes/orders.ts'
import { salesRoutes } from './routes/sales.ts'
import { ClientBudgets } from './admission/client-budgets.ts'
import { Callers } from '@flash/common'
import { StockMemory } from './stock-memory/memory.ts'
import { listenToStockEvents } from './stock-memory/events.ts'
import { roomRoutes } from './routes/rooms.ts'
import { RoomRegistry } from './room/registry.ts'
import { RoomPacer } from './room/pacer.ts'
import { RoomGate } from './room/gate.ts'
import { RoomGuests } from './room/guests.ts'
import { OrderCounts } from './live/order-counts.ts'

export const SERVICE = 'order-gateway'

class Overloaded extends AppError {
  constructor () { super(503, ErrorCode.SERVICE_UNAVAILABLE, 'the order service is overloaded; retry in a second') }
}
const BODY_LIMIT_BYTES = 4 * 1024
const ROOM_FIRST_READ_MS = 2000

/** Clients a test may bring; whatever is not given is created from the config (and closed with the app). */
export interface GatewayDeps {
  pool?: Pool
  redis?: Cluster
  kafka?: Kafka
}

/** The whole wiring of the gateway on one screen; onClose hooks close what it opened. */
export async function buildApp (config: GatewayConfig, deps: GatewayDeps = {}): Promise<App> {
  // Before anything connects: a missing or placeholder AUTH_JWT_SECRET in production stops the start.
  const auth = resolveAuthSecret(config)
  // Likewise a placeholder or short ADMIN_TOKEN: it reads and withdraws every buyer's orders.
  const adminToken = resolveAdminToken(config)
  const app = await createPlatformApp({
    service: SERVICE,
    description: 'Flash-sale order gateway: reserves stock atomically in Redis and queues orders in Kafka',
    logLevel: config.LOG_LEVEL,
    trustedProxies: config.TRUSTED_PROXIES,
    bodyLimit: BODY_LIMIT_BYTES,
    docsServerUrl: '/api'
  })
  const metrics = gatewayMetrics(app.metrics)
  // Fastify's logger is the pino instance the platform configured; kafkajs and the publisher log through it.
  const log = app.log as unknown as Logger
  if (auth.warning !== undefined) log.warn(auth.warning)
  if (adminToken.warning !== undefined) log.warn(adminToken.warning)

  const pool = deps.pool ?? createMysqlPool(config)
  const redis = deps.redis ?? createRedisCluster(config.REDIS_NODES)
  const kafka = deps.kafka ?? createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-gateway`, logger: log })
  const publisher = new OrderPublisher({
    kafka,
    topic: config.KAFKA_ORDERS_TOPIC,
    lingerMs: config.PUBLISH_LINGER_MS,
    maxBatch: config.PUBLISH_MAX_BATCH,
    ackTimeoutMs: config.PUBLISH_TIMEOUT_MS,
    logger: log,
    onBatch: (size) => metrics.batchSize.observe(size)
  })
  publisher.start()

  // Waiting rooms (docs/ARCHITECTURE.md §10): which products have one, kept in memory; the pacer
  // admits their queues. Products without a room never touch any of it.
  const roomStore = new RoomStore(redis)
  const rooms = new RoomRegistry({ store: roomStore, log: app.log, refreshMs: config.ROOM_REFRESH_MS })
  // Bounded: with Redis down at start the gateway still starts (readiness says so) and copies the set later.
  await Promise.race([rooms.refresh(), sleep(ROOM_FIRST_READ_MS)])
  rooms.start()
  const pacer = new RoomPacer({
    store: roomStore,
    registry: rooms,
    log: app.log,
    tickMs: config.ROOM_TICK_MS,
    keepMs: config.ROOM_KEEP_SECONDS * 1000,
    passMs: config.ROOM_PASS_SECONDS * 1000,
    minWindow: config.ROOM_MIN_WINDOW,
    windowSeconds: config.ROOM_WINDOW_SECONDS
  })
  pacer.start()

  // The live sale view (docs/ARCHITECTURE.md §11): counted per request in memory, written once a second.
  const counts = new OrderCounts({ store: new LiveStore(redis), log: app.log })
  counts.start()

  const stock = new StockStore(redis)
  // What a failed Redis call left reserved and this gateway will not publish: released when Redis answers.
  const unsettled = new UnsettledReservations({ stock, log: app.log })

  const memory = new StockMemory({ ttlMs: config.STOCK_MEMORY_TTL_MS })
  const stockEvents = listenToStockEvents(redis, memory, app.log, () => { void rooms.refresh() })
  metrics.watchMemory(memory)

  // Shutdown order: Fastify has stopped accepting and finished in-flight requests; then flush what
  // the batcher still holds, then close the clients those requests used.
  app.addHook('onClose', async () => {
    await Promise.all([pacer.close(), rooms.close(), counts.close(), unsettled.close()])
    await publisher.close()
    await Promise.allSettled([stockEvents.close(), deps.redis === undefined ? redis.quit() : undefined, deps.pool === undefined ? pool.end() : undefined])
  })

  app.readiness.set('mysql', () => pingMysql(pool))
  app.readiness.set('redis', () => pingRedis(redis))
  app.readiness.set('kafka', async () => { if (!publisher.connected) throw new Error('producer not connected') })

  // Buyers: the browser's session is its httpOnly access cookie, API clients send a bearer
  // token; either is verified here per request, without a database or Redis call. The gateway sets no
  // cookie, and only a route that asks who the caller is reads one (a sold-out refusal never does): the
  // Cookie header is parsed when request.cookies is first read, not by two hooks on every request.
  app.decorateRequest('cookies', { getter (this: FastifyRequest) { return parseCookie(this.headers.cookie ?? '') } })
  const operators = createOperatorAuth({ adminToken: adminToken.token, secret: auth.secret })
  const callers = new Callers({
    operators,
    verifyAccessToken: createAccessTokenVerifier(auth.secret),
    receipts: createReceipts(auth.secret)
  })
  const passes = createRoomPasses(auth.secret)
  const guests = new RoomGuests({ redis, secret: auth.secret, bits: config.ROOM_GUEST_POW_BITS })

  const orders = new OrderRepository(pool)
  const pending = new PendingOrders(redis)
  await app.register(async (orderScope) => {
    // Overload: an order that would wait behind a saturated event loop is answered 503 + Retry-After
    // at once instead of queueing for seconds (docs/ARCHITECTURE.md §5). Only the order routes shed:
    // health, metrics and docs keep answering.
    await orderScope.register(underPressure, {
      maxEventLoopDelay: config.OVERLOAD_EVENT_LOOP_DELAY_MS,
      // A loop blocked for a whole interval reads as infinite delay: long enough not to trip on a
      // garbage collection, short enough to shed within a fraction of a second.
      sampleInterval: 100,
      retryAfter: 1,
      exposeStatusRoute: false,
      customError: Overloaded
    })
    await orderScope.register(orderRoutes, {
      placement: new OrderPlacement({
        stock, memory, publisher, pending, unsettled, metrics,
        idempotencyTtlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
        publishTimeoutMs: config.PUBLISH_TIMEOUT_MS
      }),
      cancellation: new OrderCancellation({ orders, pending, publisher, metrics, publishTimeoutMs: config.PUBLISH_TIMEOUT_MS }),
      orders,
      pending,
      callers,
      rooms: new RoomGate({ registry: rooms, store: roomStore, passes, guests }),
      maxQuantityPerOrder: config.MAX_QUANTITY_PER_ORDER,
      counts,
      budgets: new ClientBudgets({ max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000 })
    })
    await orderScope.register(roomRoutes, {
      store: roomStore,
      passes,
      callers,
      poll: roomPollLimits(config),
      operators,
      guests
    })
  })
  await app.register(salesRoutes, { orders })
  return app
}
