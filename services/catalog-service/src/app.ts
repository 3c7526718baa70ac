import { createPlatformApp, createMysqlPool, createRedisCluster, pingMysql, pingRedis, requireAdmin, StockStore, type App, type Pool } from '@flash/common'
import type { onRequestAsyncHookHandler } from 'fastify'
import type { CatalogConfig } from './config.ts'
import { ProductRepository } from './products/repository.ts'
import { ProductCache } from './products/cache.ts'
import { CatalogStock } from './products/stock.ts'
import { Catalog } from './products/catalog.ts'
import { startStaleSweeper } from './stock/reconcile.ts'
import { createCatalogMetrics } from './metrics.ts'
import { productRoutes } from './routes/products.ts'
import { stockRoutes } from './routes/stock.ts'

export const SERVICE = 'catalog-service'

export interface AppDeps {
  /** wraps or replaces the repository (tests count MySQL reads with it) */
  repository?: (pool: Pool) => ProductRepository
}

/** The whole wiring of the catalog on one screen. The app owns its clients and closes them. */
export async function buildApp (config: CatalogConfig, deps: AppDeps = {}): Promise<App> {
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
  const catalog = new Catalog({ repository, cache, stock })
  const metrics = createCatalogMetrics(app.metrics)
  const admin = requireAdmin(config.ADMIN_TOKEN) as onRequestAsyncHookHandler

  app.readiness.set('mysql', () => pingMysql(pool))
  app.readiness.set('redis', () => pingRedis(redis))

  await app.register(productRoutes, { catalog, admin, metrics })
  await app.register(stockRoutes, { repository, stock, admin, metrics, staleReservationSeconds: config.STALE_RESERVATION_SECONDS })

  const sweeper = startStaleSweeper({
    repository,
    stock,
    log: app.log.child({ component: 'stale-sweeper' }),
    staleSeconds: config.STALE_RESERVATION_SECONDS,
    onReleased: (units) => metrics.staleUnitsReleased.inc(units)
  })

  app.addHook('onClose', async () => {
    await sweeper.stop()
    await Promise.allSettled([redis.quit(), pool.end()])
  })
  return app
}
