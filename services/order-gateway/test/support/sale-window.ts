import type { Cluster } from 'ioredis'
import type { RowDataPacket } from 'mysql2/promise'
import { productKeys, productTag, type Pool, type StockStore } from '@flash/common'

// Sale-window test support: the product's sale window set the way catalog-service sets it (MySQL, then
// StockStore.setInfo), Redis's clock on the product's shard, and a byte-for-byte dump of everything a
// refused order could have written.

/** Redis's clock (ms) on the shard of the product: the clock reserve.lua judges the window by. */
export async function redisNow (redis: Cluster, productId: number): Promise<number> {
  const [seconds, micros] = await redis.eval("return redis.call('TIME')", 1, productKeys(productId).info) as [string, string]
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}

export async function setWindow (deps: { mysql: Pool, store: StockStore }, productId: number,
  window: { startsAt: number | null, endsAt: number | null }): Promise<void> {
  const date = (ms: number | null) => ms === null ? null : new Date(ms)
  await deps.mysql.query('UPDATE products SET sale_starts_at = ?, sale_ends_at = ? WHERE id = ?',
    [date(window.startsAt), date(window.endsAt), productId])
  await deps.store.setInfo(productId, { window })
}

/**
 * Every Redis key of the product (found by SCAN on every master, since idempotency records and
 * tombstones have per-request names) as DUMP's bytes and TTL presence, and the product's MySQL rows:
 * equal dumps mean nothing was written. Not the live view's per-second counts (docs/ARCHITECTURE.md
 * §11): they count every answer, refusals too, once a second — what the operator sees, not the sale.
 */
export async function dumpProductState (deps: { redis: Cluster, mysql: Pool }, productId: number): Promise<string> {
  const { redis, mysql } = deps
  const names = new Set<string>()
  const live = productKeys(productId).livePrefix
  for (const node of redis.nodes('master')) {
    let cursor = '0'
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${productTag(productId)}:*`, 'COUNT', 1000)
      cursor = next
      for (const name of found) if (!name.startsWith(live)) names.add(name)
    } while (cursor !== '0')
  }
  const redisState: Record<string, string | null> = {}
  for (const name of [...names].sort()) {
    const dumped = await redis.dumpBuffer(name)
    redisState[name] = dumped === null ? null : `${dumped.toString('hex')} ttl:${await redis.ttl(name) >= 0 ? 'set' : 'none'}`
  }
  const [product] = await mysql.query<RowDataPacket[]>('SELECT * FROM products WHERE id = ?', [productId])
  const [orders] = await mysql.query<RowDataPacket[]>('SELECT * FROM orders WHERE product_id = ? ORDER BY id', [productId])
  return JSON.stringify({ redis: redisState, product, orders })
}
