import cookie from '@fastify/cookie'
import {
  createPlatformApp, createMysqlPool, pingMysql, createKafka, resolveAuthSecret, resolveAdminToken, createOperatorAuth, createAccessTokenVerifier, createReceipts,
  Callers, type App, type Logger, type Pool, type Kafka
} from '@flash/common'
import type { PaymentServiceConfig } from './config.ts'
import { StripeProvider } from './provider/stripe.ts'
import type { PaymentProvider } from './provider/provider.ts'
import { PaymentRepository } from './payments/repository.ts'
import { Payments } from './payments/payments.ts'
import { PaidNotifier } from './payments/notifier.ts'
import { WebhookEvents } from './payments/webhook.ts'
import { Settlement } from './payments/settlement.ts'
import { Sandbox } from './payments/sandbox.ts'
import { paymentRoutes } from './routes/payments.ts'
import { webhookRoutes } from './routes/webhook.ts'
import { createPaymentMetrics } from './metrics.ts'

export const SERVICE = 'payment-service'
const BODY_LIMIT_BYTES = 64 * 1024

declare module 'fastify' {
  interface FastifyInstance {
    settlement: Settlement
  }
}

/** Clients a test may bring; whatever is not given is created from the config (and closed with the app). */
export interface PaymentDeps {
  pool?: Pool
  kafka?: Kafka
  provider?: PaymentProvider
  /** false: no background settlement (a test drives `app.settlement.settle()` itself) */
  settle?: boolean
}

/** The whole wiring of the payment-service on one screen; onClose hooks close what it opened. */
export async function buildApp (config: PaymentServiceConfig, deps: PaymentDeps = {}): Promise<App> {
  const auth = resolveAuthSecret(config)
  // Likewise a placeholder or short ADMIN_TOKEN: it reads every buyer's payments.
  const adminToken = resolveAdminToken(config)
  const app = await createPlatformApp({
    service: SERVICE,
    description: 'Payments of held orders through the provider (Stripe PaymentIntents), its signed webhook events, refunds of payments their orders could not take',
    logLevel: config.LOG_LEVEL,
    trustedProxies: config.TRUSTED_PROXIES,
    bodyLimit: BODY_LIMIT_BYTES,
    docsServerUrl: '/api'
  })
  const log = app.log as unknown as Logger
  if (auth.warning !== undefined) log.warn(auth.warning)
  if (adminToken.warning !== undefined) log.warn(adminToken.warning)
  if (config.STRIPE_WEBHOOK_SECRET === 'whsec_local_only_flash_sale') log.warn('STRIPE_WEBHOOK_SECRET is the local-only default: set the endpoint\'s secret for any real deployment')

  const pool = deps.pool ?? createMysqlPool(config)
  const kafka = deps.kafka ?? createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-payments`, logger: log })
  const provider = deps.provider ?? new StripeProvider({
    secretKey: config.STRIPE_SECRET_KEY,
    webhookSecret: config.STRIPE_WEBHOOK_SECRET,
    apiUrl: config.STRIPE_API_URL,
    toleranceSeconds: config.STRIPE_WEBHOOK_TOLERANCE_SECONDS
  })
  const metrics = createPaymentMetrics(app.metrics)
  const repository = new PaymentRepository(pool)
  const notifier = new PaidNotifier(kafka, config.KAFKA_ORDERS_TOPIC)
  const settlement = new Settlement({ repository, provider, notifier, intervalMs: config.PAYMENT_SETTLE_INTERVAL_MS, log, metrics })
  const sandbox = config.PAYMENTS_SANDBOX ? new Sandbox({ provider, webhookUrl: config.PAYMENTS_WEBHOOK_URL, log }) : null
  app.decorate('settlement', settlement)

  app.readiness.set('mysql', () => pingMysql(pool))
  app.readiness.set('kafka', async () => { if (!notifier.connected) throw new Error('producer not connected') })

  app.addHook('onReady', async () => {
    await notifier.connect()
    if (deps.settle !== false) settlement.start()
  })
  app.addHook('onClose', async () => {
    await settlement.stop()
    await sandbox?.close()
    await notifier.close()
    if (deps.pool === undefined) await pool.end().catch(() => {})
  })

  await app.register(cookie)
  const callers = new Callers({
    operators: createOperatorAuth({ adminToken: adminToken.token, secret: auth.secret }),
    verifyAccessToken: createAccessTokenVerifier(auth.secret),
    receipts: createReceipts(auth.secret)
  })
  await app.register(paymentRoutes, {
    payments: new Payments({ repository, provider, sandbox: sandbox !== null, metrics }),
    callers,
    sandbox,
    currency: config.PAYMENT_CURRENCY
  })
  await app.register(webhookRoutes, { events: new WebhookEvents({ repository, provider, notifier, log, metrics }) })
  return app
}
