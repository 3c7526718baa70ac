import rateLimit from '@fastify/rate-limit'
import {
  createPlatformApp, createMysqlPool, pingMysql, createRedisCluster, pingRedis, createKafka, StockStore,
  AppError, ErrorCode, rateLimitPrefix, type App, type Logger
} from '@flash/common'
import type { GatewayConfig } from './config.ts'
import { gatewayMetrics } from './metrics.ts'
import { OrderPublisher } from './publishing/publisher.ts'
import { OrderRepository } from './orders/repository.ts'
import { PendingOrders } from './orders/pending.ts'
import { OrderPlacement } from './orders/placement.ts'
import { OrderCancellation } from './orders/cancellation.ts'
import { orderRoutes } from './routes/orders.ts'
import { salesRoutes } from './routes/sales.ts'
import { redisRateLimitStore } from './rate-limit/store.ts'

export const SERVICE = 'order-gateway'
const BODY_LIMIT_BYTES = 4 * 1024

/** The whole wiring of the gateway on one screen; onClose hooks close what it opened. */
export async function buildApp (config: GatewayConfig): Promise<App> {
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

  const pool = createMysqlPool(config)
  const redis = createRedisCluster(config.REDIS_NODES)
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-gateway`, logger: log })
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

  // Shutdown order: Fastify has stopped accepting and finished in-flight requests; then flush what
  // the batcher still holds, then close the clients those requests used.
  app.addHook('onClose', async () => {
    await publisher.close()
    await Promise.allSettled([redis.quit(), pool.end()])
  })

  app.readiness.set('mysql', () => pingMysql(pool))
  app.readiness.set('redis', () => pingRedis(redis))
  app.readiness.set('kafka', async () => { if (!publisher.connected) throw new Error('producer not connected') })

  await app.register(rateLimit, {
    global: false,
    store: redisRateLimitStore(redis, rateLimitPrefix, config.RATE_LIMIT_WINDOW_SECONDS * 1000),
    // request.ip is the buyer: the platform trusts X-Forwarded-For only from nginx's networks, so a
    // direct client cannot pick its own address.
    keyGenerator: (request) => request.ip,
    // A Redis hiccup must not turn every order into a 500; the reservation itself needs Redis anyway.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new AppError(429, ErrorCode.RATE_LIMITED, `too many orders from this client; retry in ${context.after}`)
  })

  const orders = new OrderRepository(pool)
  const pending = new PendingOrders(redis)
  const stock = new StockStore(redis)
  await app.register(orderRoutes, {
    placement: new OrderPlacement({
      redis, stock, publisher, pending, metrics,
      idempotencyTtlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS
    }),
    cancellation: new OrderCancellation({ orders, pending, publisher, metrics, publishTimeoutMs: config.PUBLISH_TIMEOUT_MS }),
    orders,
    pending,
    maxQuantityPerOrder: config.MAX_QUANTITY_PER_ORDER,
    rateLimit: { max: config.RATE_LIMIT_MAX, timeWindow: config.RATE_LIMIT_WINDOW_SECONDS * 1000 }
  })
  await app.register(salesRoutes, { orders })
  return app
}
