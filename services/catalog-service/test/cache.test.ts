import t from 'tap'
import { productCacheKey, sleep, type Pool } from '@flash/common'
import { ProductRepository, type ProductRecord } from '../src/products/repository.ts'
import { testStack, uniqueName } from '@flash/common/test-support'
import { admin, buildTestApp, postProduct, reserve } from './helper.ts'

/** The real repository, counting the MySQL reads of product details. */
class CountingRepository extends ProductRepository {
  reads = 0
  override async findById (id: number): Promise<ProductRecord | null> {
    this.reads++
    return super.findById(id)
  }
}

async function countingApp (t: Parameters<typeof buildTestApp>[0], overrides: Record<string, string> = {}) {
  let repository: CountingRepository | undefined
  const app = await buildTestApp(t, { repository: (mysql: Pool) => (repository = new CountingRepository(mysql)) }, overrides)
  return { app, repository: repository as CountingRepository }
}

t.test('a miss reads MySQL and fills the cache with a TTL; the next read is a hit', async (t) => {
  const { app, repository } = await countingApp(t)
  const { redis } = testStack(t)
  const product = await postProduct(app, { stock: 9 })
  t.equal(await redis.exists(productCacheKey(product.id)), 0, 'creating does not fill the cache')
  const reads = repository.reads
  const miss = await app.inject(`/products/${product.id}`)
  t.equal(miss.headers['x-cache'], 'miss')
  t.equal(repository.reads, reads + 1)
  const cached = JSON.parse(await redis.get(productCacheKey(product.id)) ?? 'null')
  t.match(cached, { id: product.id, name: product.name, status: 'active' })
  t.notOk('stock' in cached, 'stock is never cached: it always comes live from Redis')
  const ttl = await redis.ttl(productCacheKey(product.id))
  t.ok(ttl > 0 && ttl <= 30, `TTL ${ttl}s within PRODUCT_CACHE_TTL_SECONDS`)
  const hit = await app.inject(`/products/${product.id}`)
  t.equal(hit.headers['x-cache'], 'hit')
  t.equal(repository.reads, reads + 1, 'a hit does not touch MySQL')
  t.same(hit.json(), miss.json())
  const metrics = (await app.inject('/metrics')).body
  t.match(metrics, /catalog_product_cache_reads_total\{[^}]*result="hit"[^}]*\} [1-9]/)
  t.match(metrics, /catalog_product_cache_reads_total\{[^}]*result="miss"[^}]*\} [1-9]/)
})

t.test('a cached product still shows live stock', async (t) => {
  const { app } = await countingApp(t)
  const { store } = testStack(t)
  const product = await postProduct(app, { stock: 9 })
  await app.inject(`/products/${product.id}`)
  await reserve(store, product.id, 4)
  const hit = await app.inject(`/products/${product.id}`)
  t.equal(hit.headers['x-cache'], 'hit')
  t.equal(hit.json().stock, 5)
})

t.test('every write invalidates the cached product', async (t) => {
  const { app, repository } = await countingApp(t)
  const { redis } = testStack(t)
  const product = await postProduct(app, { stock: 9 })
  const writes = [
    { method: 'PATCH' as const, url: `/products/${product.id}`, payload: { name: uniqueName('patched') } },
    { method: 'POST' as const, url: `/products/${product.id}/restock`, payload: { quantity: 2 } },
    { method: 'DELETE' as const, url: `/products/${product.id}` }
  ]
  for (const write of writes) {
    await app.inject(`/products/${product.id}`)
    t.equal(await redis.exists(productCacheKey(product.id)), 1, `cached before ${write.method}`)
    const res = await app.inject({ ...write, headers: admin })
    t.equal(res.statusCode, 200, write.method)
    t.equal(await redis.exists(productCacheKey(product.id)), 0, `${write.method} removed the cached entry`)
    const reads = repository.reads
    const after = await app.inject(`/products/${product.id}`)
    t.equal(after.headers['x-cache'], 'miss')
    t.equal(repository.reads, reads + 1)
    t.same(after.json(), res.json(), `the next read shows what ${write.method} answered`)
  }
  t.match((await app.inject(`/products/${product.id}`)).json(), { status: 'archived', stock: 11 })
})

t.test('a burst of misses for one product makes one MySQL query (single-flight)', async (t) => {
  const { app, repository } = await countingApp(t)
  const { redis } = testStack(t)
  const product = await postProduct(app, { stock: 9 })
  const other = await postProduct(app, { stock: 3 })
  const reads = repository.reads
  const burst = await Promise.all([
    ...Array.from({ length: 500 }, () => app.inject(`/products/${product.id}`)),
    ...Array.from({ length: 100 }, () => app.inject(`/products/${other.id}`))
  ])
  t.ok(burst.every((r) => r.statusCode === 200))
  t.equal(repository.reads, reads + 2, '600 concurrent misses, one MySQL read per product')
  t.ok(burst.slice(0, 500).every((r) => r.json().id === product.id && r.json().stock === 9))
  t.equal(burst.filter((r) => r.headers['x-cache'] === 'miss').length, 600)
  t.equal(await redis.exists(productCacheKey(product.id)), 1)
  t.equal(await redis.exists(productCacheKey(other.id)), 1)
})

t.test('a read that began before a write does not put the old row back in the cache', async (t) => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  class SlowRepository extends ProductRepository {
    slow = false
    override async findById (id: number): Promise<ProductRecord | null> {
      const record = await super.findById(id)
      if (this.slow) { this.slow = false; await gate }
      return record
    }
  }
  let repository: SlowRepository | undefined
  const app = await buildTestApp(t, { repository: (mysql: Pool) => (repository = new SlowRepository(mysql)) })
  const { redis } = testStack(t)
  const product = await postProduct(app, { stock: 9 })
  repository!.slow = true
  const stale = app.inject(`/products/${product.id}`)
  await sleep(50)
  const name = uniqueName('newer')
  t.equal((await app.inject({ method: 'PATCH', url: `/products/${product.id}`, headers: admin, payload: { name } })).statusCode, 200)
  release()
  t.equal((await stale).json().name, product.name, 'the slow reader gets what it read')
  t.equal(await redis.exists(productCacheKey(product.id)), 0, 'but its old row is not cached')
  t.equal((await app.inject(`/products/${product.id}`)).json().name, name)
})
