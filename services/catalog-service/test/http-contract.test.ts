import t from 'tap'
import { productKeys, sleep, type Pool } from '@flash/common'
import type { RowDataPacket } from 'mysql2/promise'
import { testStack, uniqueName } from '@flash/common/test-support'
import { admin, buildTestApp, postProduct, mysqlProduct } from './helper.ts'

// The catalog's HTTP contract where it once differed from its OpenAPI document (docs/ARCHITECTURE.md §5):
// archived products, method and query-parameter rules, optional page parameters and sync body.

async function updatedAt (mysql: Pool, id: number): Promise<string> {
  const [rows] = await mysql.query<Array<RowDataPacket & { updated_at: Date }>>('SELECT updated_at FROM products WHERE id = ?', [id])
  return rows[0]?.updated_at.toISOString() ?? 'missing'
}

t.test('an archived product cannot be changed: PATCH answers 409 PRODUCT_ARCHIVED and MySQL keeps it as it was', async (t) => {
  const app = await buildTestApp(t)
  const { mysql } = testStack(t)
  const name = uniqueName('archived-patch')
  const product = await postProduct(app, { name, stock: 3, price: 500 })
  t.equal((await app.inject({ method: 'DELETE', url: `/products/${product.id}`, headers: admin })).statusCode, 200)
  const archivedAt = await updatedAt(mysql, product.id)

  const res = await app.inject({ method: 'PATCH', url: `/products/${product.id}`, headers: admin, payload: { name: 'renamed', price: 1 } })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { statusCode: 409, code: 'PRODUCT_ARCHIVED', message: `product ${product.id} is archived: it cannot be changed or restocked` })
  t.match(await mysqlProduct(mysql, product.id), { name, price: 500, status: 'archived' })
  t.equal(await updatedAt(mysql, product.id), archivedAt, 'updated_at untouched')

  // An active product is still changed as before.
  const active = await postProduct(app, { stock: 1 })
  const changed = await app.inject({ method: 'PATCH', url: `/products/${active.id}`, headers: admin, payload: { price: 42 } })
  t.equal(changed.statusCode, 200)
  t.equal((await mysqlProduct(mysql, active.id))?.price, 42)
  t.equal((await app.inject({ method: 'PATCH', url: '/products/999999999999', headers: admin, payload: { price: 1 } })).statusCode, 404)
})

t.test('archiving is idempotent: a second DELETE answers 200 with the same product and does not move updatedAt', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis } = testStack(t)
  const product = await postProduct(app, { stock: 2 })
  const first = await app.inject({ method: 'DELETE', url: `/products/${product.id}`, headers: admin })
  t.equal(first.statusCode, 200)
  const archivedAt = await updatedAt(mysql, product.id)
  t.equal(first.json().updatedAt, archivedAt)

  await sleep(20)
  const second = await app.inject({ method: 'DELETE', url: `/products/${product.id}`, headers: admin })
  t.equal(second.statusCode, 200)
  t.match(second.json(), { id: product.id, status: 'archived', updatedAt: archivedAt })
  t.equal(await updatedAt(mysql, product.id), archivedAt, 'MySQL updated_at is when it was archived')
  t.equal(await redis.hget(productKeys(product.id).info, 'status'), 'archived')
  t.equal((await app.inject({ method: 'DELETE', url: '/products/999999999999', headers: admin })).statusCode, 404)
})

t.test('an unknown method on a known path answers 405 with Allow, and changes nothing', async (t) => {
  const app = await buildTestApp(t)
  const { mysql } = testStack(t)
  const product = await postProduct(app, { stock: 4, price: 7 })
  const put = await app.inject({ method: 'PUT', url: `/products/${product.id}`, headers: admin, payload: { name: 'replaced', stock: 1 } })
  t.equal(put.statusCode, 405)
  t.equal(put.headers.allow, 'DELETE, GET, HEAD, PATCH')
  t.equal(put.json().code, 'METHOD_NOT_ALLOWED')
  t.match(await mysqlProduct(mysql, product.id), { name: product.name, stock: 4, price: 7 })

  const list = await app.inject({ method: 'DELETE', url: '/products', headers: admin })
  t.equal(list.statusCode, 405)
  t.equal(list.headers.allow, 'GET, HEAD, POST')
  const sync = await app.inject({ method: 'GET', url: '/admin/stock/sync', headers: admin })
  t.equal(sync.statusCode, 405)
  t.equal(sync.headers.allow, 'POST')
})

t.test('unknown query parameters: 400 naming the parameter; page and pageSize may be left out', async (t) => {
  const app = await buildTestApp(t)
  const bad = await app.inject('/products?pageSize=5&orderBy=price')
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'VALIDATION_FAILED', message: "querystring must NOT have additional property 'orderBy'" })
  const one = await app.inject('/products/1?fields=name')
  t.equal(one.statusCode, 400)
  t.match(one.json().message, /'fields'/)
  const reconcile = await app.inject({ url: '/admin/stock/reconcile?verbose=1', headers: admin })
  t.equal(reconcile.statusCode, 400)
  t.match(reconcile.json().message, /'verbose'/)

  const name = uniqueName('defaults')
  const product = await postProduct(app, { name, stock: 1 })
  const page = await app.inject(`/products?name=${encodeURIComponent(name)}`)
  t.equal(page.statusCode, 200)
  t.match(page.json(), { page: 1, pageSize: 20, total: 1, items: [{ id: product.id }] })
})

t.test('the document says what the server accepts: sync and release-stale take no body, page params are optional', async (t) => {
  const app = await buildTestApp(t)
  const doc = (await app.inject('/docs/json')).json()
  t.same(doc.servers, [], 'fetched directly: paths from /')
  for (const path of ['/admin/stock/sync', '/admin/stock/release-stale']) {
    t.equal(doc.paths[path].post.requestBody.required, false, `${path}: body not required`)
  }
  const params = doc.paths['/products'].get.parameters as Array<{ name: string, required: boolean }>
  t.same(params.filter((p) => p.required).map((p) => p.name), [], 'no required query parameter on GET /products')
  t.match(doc.paths['/products/{id}'].patch.summary, /409 for an archived product/)

  const product = await postProduct(app, { stock: 6 })
  // No body means every product: this reads every ledger entry in the shared Redis, so it also proves
  // that each of them is in the current record format (docs/ARCHITECTURE.md §3).
  const released = await app.inject({ method: 'POST', url: '/admin/stock/release-stale', headers: admin })
  t.equal(released.statusCode, 200, 'release-stale with no body at all')
  t.ok(Array.isArray(released.json().released))
  const synced = await app.inject({ method: 'POST', url: '/admin/stock/sync', headers: admin, payload: { productIds: [product.id] } })
  t.match(synced.json(), { products: [{ productId: product.id, mysqlStock: 6 }] })

  const proxied = (await app.inject({ url: '/docs/json', headers: { 'x-forwarded-prefix': '/docs/catalog' } })).json()
  t.same(proxied.servers, [{ url: '/api', description: 'through nginx' }])
  t.notOk(Object.keys(proxied.paths).some((p) => p.startsWith('/health')), 'behind nginx: no health routes (nginx does not route them)')
})
