import type { Logger } from 'pino'
import {
  createPlatformApp, createMysqlPool, pingMysql, createRedisCluster, pingRedis, createKafka, StockStore, LiveStore,
  type App, type Pool, type Cluster, type Kafka
} from '@flash/common'
import type { ProcessorConfig } from './config.ts'
import { applyOrderBatch } from './batch.ts'
import { HoldExpiry } from './holds/expiry.ts'
import { ordersRepository } from './orders/repository.ts'
import { OrderConsumer } from './consumer.ts'
import { createProcessorMetrics } from './metrics.ts'
import type { OrdersRepository } from './orders/repository.ts'
import { KafkaLagReporter } from './live/kafka-lag.ts'

declare module 'fastify' {
  interface FastifyInstance {
    orderConsumer: OrderConsumer
    holdExpiry: HoldExpiry
  }
}

/** Clients a test may bring; whatever is not given is created from the config (and closed with the app). */
export interface ProcessorDeps {
  pool?: Pool
  redis?: Cluster
  kafka?: Kafka
  repository?: OrdersRepository
  /** the clock of payment deadlines (tests move it) */
  now?: () => number
}

export async function buildApp (config: ProcessorConfig, deps: ProcessorDeps = {}): Promise<App> {
  const app = await createPlatformApp({
    service: 'order-processor',
    description: 'Consumes `orders` in batches: writes orders and SQL stock in one transaction per batch, then settles Redis (ledger, compensation, cancellations, expired payment holds); announces holds past their deadline.',
    logLevel: config.LOG_LEVEL,
    trustedProxies: config.TRUSTED_PROXIES
  })
  const log = app.log as unknown as Logger
  const pool = deps.pool ?? createMysqlPool(config)
  const redis = deps.redis ?? createRedisCluster(config.REDIS_NODES)
  const kafka = deps.kafka ?? createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-processor`, logger: log })
  const stock = new StockStore(redis)
  const metrics = createProcessorMetrics(app.metrics)

  const consumer = new OrderConsumer({
    kafka,
    groupId: config.KAFKA_GROUP_ID,
    topic: config.KAFKA_ORDERS_TOPIC,
    dlqTopic: config.KAFKA_DLQ_TOPIC,
    maxBatch: config.PROCESSOR_MAX_BATCH,
    partitionsConcurrently: config.PROCESSOR_PARTITIONS_CONCURRENTLY,
    fetchMinBytes: config.PROCESSOR_FETCH_MIN_BYTES,
    fetchMaxWaitMs: config.PROCESSOR_FETCH_MAX_WAIT_MS,
    log,
    metrics,
    apply: (messages, changeTokens) => applyOrderBatch(
      { pool, stock, repository: deps.repository, currency: config.PAYMENT_CURRENCY, now: deps.now }, messages, changeTokens)
  })
  app.decorate('orderConsumer', consumer)
  const expiry = new HoldExpiry({
    pool, kafka, topic: config.KAFKA_ORDERS_TOPIC, repository: deps.repository ?? ordersRepository,
    intervalMs: config.PAYMENT_EXPIRY_SCAN_MS, log, now: deps.now
  })
  app.decorate('holdExpiry', expiry)

  // The live sale view's Kafka lag (docs/ARCHITECTURE.md §11), measured from the group's offsets.
  const lag = new KafkaLagReporter({ kafka, store: new LiveStore(redis), topic: config.KAFKA_ORDERS_TOPIC, groupId: config.KAFKA_GROUP_ID, log })

  app.readiness.set('mysql', () => pingMysql(pool))
  app.readiness.set('redis', () => pingRedis(redis))
  app.readiness.set('consumer', async () => {
    const { running, joined } = consumer.state
    if (!running) throw new Error('consumer is not running')
    if (!joined) throw new Error(`consumer has not joined group ${config.KAFKA_GROUP_ID}`)
  })

  // The consumer starts once the app is ready (listen, or ready() in tests) and stops first on close:
  // it finishes and commits the batch in flight before the pools it writes through are closed.
  app.addHook('onReady', async () => {
    await consumer.start()
    if (config.PAYMENT_EXPIRY_SCAN_MS > 0) await expiry.start()
    lag.start()
  })
  app.addHook('onClose', async () => {
    await Promise.all([expiry.stop(), lag.close()])
    await consumer.stop().catch((err: unknown) => log.error({ err }, 'consumer did not stop cleanly'))
    if (deps.pool === undefined) await pool.end().catch(() => {})
    if (deps.redis === undefined) await redis.quit().catch(() => {})
  })
  return app
}
