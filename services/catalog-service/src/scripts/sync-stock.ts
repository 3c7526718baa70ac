import { createMysqlPool, createRedisCluster, StockStore } from '@flash/common'
import { loadCatalogConfig } from '../config.ts'
import { ProductRepository } from '../products/repository.ts'
import { CatalogStock } from '../products/stock.ts'
import { syncStock } from '../stock/sync.ts'

// `npm run sync:stock [productId ...]`: the seed's script, now safe during a sale. It runs the same
// module as POST /admin/stock/sync: Redis available = MySQL stock − pending reservations, never a blind
// copy of MySQL stock. Exits 2 when some product stayed busy (a stock change kept running): run again.

const args = process.argv.slice(2)
const productIds = args.map(Number)
if (productIds.some((id) => !Number.isSafeInteger(id) || id < 1)) {
  process.stderr.write(`usage: sync-stock [productId ...] (positive integers), got: ${args.join(' ')}\n`)
  process.exit(64)
}

const config = loadCatalogConfig()
const pool = createMysqlPool(config)
const redis = createRedisCluster(config.REDIS_NODES)
const stock = new CatalogStock(redis, new StockStore(redis))
try {
  const rows = await syncStock({ repository: new ProductRepository(pool), stock }, productIds.length > 0 ? productIds : undefined)
  const header = ['productId', 'mysqlStock', 'pending', 'before', 'after', 'outcome']
  const lines = [header, ...rows.map((r) => [r.productId, r.mysqlStock, r.pending, r.before ?? '-', r.after ?? '-', r.outcome].map(String))]
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)))
  for (const line of lines) process.stdout.write(`${line.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')}\n`)
  const busy = rows.filter((r) => r.outcome === 'busy').length
  const changed = rows.filter((r) => r.outcome === 'set').length
  process.stdout.write(`${rows.length} products: ${changed} set, ${rows.length - changed - busy} unchanged, ${busy} busy\n`)
  process.exitCode = busy > 0 ? 2 : 0
} catch (error) {
  process.stderr.write(`sync-stock failed: ${(error as Error).message}\n`)
  process.exitCode = 1
} finally {
  await Promise.allSettled([redis.quit(), pool.end()])
}
