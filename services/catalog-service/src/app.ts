import cookie from '@fastify/cookie'
import rateLimit from '@fastify/rate-limit'
import {
  createPlatformApp, createMysqlPool, createRedisCluster, pingMysql, pingRedis, StockStore, RoomStore, createProofOfWork, LiveStore,
  resolveAuthSecret, resolveAdminToken, createOperatorAuth, createOperatorTokenSigner, createAccessTokenSigner, createAccessTokenVerifier,
  AppError, ErrorCode, type App, type Pool
} from '@flash/common'
import type { CatalogConfig } from './config.ts'
import { ProductRepository } from './products/repository.ts'
import { ProductCache } from './products/cache.ts'
import { CatalogStock } from './products/stock.ts'
import { Catalog } from './products/catalog.ts'
import { SignupGuard } from './buyers/signup-guard.ts'
import { startStaleSweeper } from './stock/reconcile.ts'
import { createCatalogMetrics } from './metrics.ts'
import { productRoutes } from './routes/products.ts'
import { stockRoutes } from './routes/stock.ts'
import { authRoutes } from './routes/auth.ts'
import { BuyerRepository } from './buyers/repository.ts'
import { LoginLockout } from './buyers/lockout.ts'
import { Accounts } from './buyers/accounts.ts'
import { liveRoutes } from './routes/live.ts'
import { LiveFeed } from './live/feed.ts'
import { OrderUnitsReader } from './live/units.ts'
import { AuditLog, auditRefusals } from './audit/audit-log.ts'
import { OperatorRepository } from './operators/repository.ts'
import { Operators } from './operators/operators.ts'
import { operatorRoutes } from './routes/operators.ts'

export const SERVICE = 'catalog-service'

export interface AppDeps {
  /** wraps or replaces the repository (tests count MySQL reads with it) */
  repository?: (pool: Pool) => ProductRepository
}

/** The whole wiring of the catalog on one screen. The app owns its clients and closes them. */
export async function buildApp (config: CatalogConfig, deps: AppDeps = {}): Promise<App> {
  // Before anything connects: a missing or placeholder AUTH_JWT_SECRET in production stops the start.
  const auth = resolveAuthSecret(config)
  // Likewise a placeholder or short ADMIN_TOKEN (services/common/src/auth/operators.ts): the break-glass
  // admin credential, which guards every write and every buyer's orders.
  const adminToken = resolveAdminToken(config)
  const app = await createPlatformApp({
    service: SERVICE,
    description: 'Products, their cache, and the stock Redis holds for sale (sync, reconciliation)',
    logLevel: config.LOG_LEVEL,
    trustedProxies: config.TRUSTED_PROXIES,
    bodyLimit: 16 * 1024,
    docsServerUrl: '/api'
  })

  const pool = createMysqlPool(config)
  const redis = createRedisCluster(config.REDIS_NODES)
  const repository = deps.repository?.(pool) ?? new ProductRepository(pool)
  const stock = new CatalogStock(redis, new StockStore(redis), app.log)
  const cache = new ProductCache({ redis, repository, ttlSeconds: config.PRODUCT_CACHE_TTL_SECONDS, log: app.log })
  const audit = new AuditLog(pool)
  const catalog = new Catalog({ repository, cache, stock, rooms: new RoomStore(redis), audit, paymentWindowSeconds: config.PAYMENT_WINDOW_SECONDS })
  const metrics = createCatalogMetrics(app.metrics)
  const operators = createOperatorAuth({ adminToken: adminToken.token, secret: auth.secret })
  const lockout = new LoginLockout({ redis, maxFailures: config.LOGIN_MAX_FAILURES, windowSeconds: config.LOGIN_LOCKOUT_SECONDS })
  const authRateLimit = { max: config.AUTH_RATE_LIMIT_MAX, timeWindow: config.AUTH_RATE_LIMIT_WINDOW_SECONDS * 1000 }

  if (auth.warning !== undefined) app.log.warn(auth.warning)
  if (adminToken.warning !== undefined) app.log.warn(adminToken.warning)

  app.readiness.set('mysql', () => pingMysql(pool))
  app.readiness.set('redis', () => pingRedis(redis))

  auditRefusals(app, audit)
  await app.register(productRoutes, { catalog, operators, metrics })
  await app.register(stockRoutes, { repository, stock, operators, audit, metrics, staleReservationSeconds: config.STALE_RESERVATION_SECONDS })
  // The operator's live sale view (docs/ARCHITECTURE.md §11); its streams end before the server closes.
  const feed = new LiveFeed({ store: new LiveStore(redis), units: new OrderUnitsReader(pool), topic: config.KAFKA_ORDERS_TOPIC, log: app.log.child({ component: 'live' }) })
  app.addHook('preClose', async () => { feed.close() })
  await app.register(liveRoutes, { feed, admin: operators.require('read') })

  // Buyer accounts live here, not in the gateway: scrypt must never take the hot path's CPU.
  await app.register(cookie)
  await app.register(rateLimit, {
    global: false,
    // request.ip: X-Forwarded-For is believed only from TRUSTED_PROXIES (nginx), so it is the client's.
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) =>
      new AppError(429, ErrorCode.RATE_LIMITED, `too many sign-in attempts from this address; retry in ${context.after}`)
  })
  await app.register(authRoutes, {
    accounts: new Accounts({
      repository: new BuyerRepository(pool),
      lockout,
      signAccessToken: createAccessTokenSigner(auth.secret)
    }),
    verifyAccessToken: createAccessTokenVerifier(auth.secret),
    rateLimit: authRateLimit,
    signup: new SignupGuard({ redis, pow: createProofOfWork(auth.secret), bits: config.SIGNUP_POW_BITS, perHour: config.SIGNUP_LIMIT_PER_HOUR })
  })

  await app.register(operatorRoutes, {
    operators: new Operators({ repository: new OperatorRepository(pool), audit, lockout, signToken: createOperatorTokenSigner(auth.secret) }),
    auth: operators,
    audit,
    rateLimit: authRateLimit
  })

  const sweeper = startStaleSweeper({
    repository,
    stock,
    log: app.log.child({ component: 'stale-sweeper' }),
    staleSeconds: config.STALE_RESERVATION_SECONDS,
    everySeconds: config.STALE_SWEEP_SECONDS,
    onReleased: (units) => metrics.staleUnitsReleased.inc(units)
  })

  app.addHook('onClose', async () => {
    await sweeper.stop()
    await Promise.allSettled([redis.quit(), pool.end()])
  })
  return app
}
