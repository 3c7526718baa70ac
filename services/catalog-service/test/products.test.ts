import t from 'tap'
import { newOrderId, productKeys } from '@flash/common'
import type { RowDataPacket } from 'mysql2/promise'
import { testStack, uniqueName } from '@flash/common/test-support'
import { admin, buildTestApp, postProduct, mysqlProduct, reserve } from './helper.ts'

t.test('the seed body creates a product that is on sale before the 201', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis, store } = testStack(t)
  const res = await app.inject({
    method: 'POST',
    url: '/products',
    headers: { ...admin, 'content-type': 'application/json' },
    payload: '{"name":"无线耳机","stock":100,"imageUrl":"http://example.com/headphone.jpg"}'
  })
  t.equal(res.statusCode, 201)
  const product = res.json()
  t.match(product, { name: '无线耳机', stock: 100, price: 0, imageUrl: 'http://example.com/headphone.jpg', perUserLimit: null, status: 'active' })
  t.ok(Number.isInteger(product.id) && product.id > 0)
  t.ok(!Number.isNaN(Date.parse(product.createdAt)) && !Number.isNaN(Date.parse(product.updatedAt)))
  t.match(await mysqlProduct(mysql, product.id), { name: '无线耳机', stock: 100, price: 0, image_url: 'http://example.com/headphone.jpg', per_user_limit: null, status: 'active' })
  t.equal(await redis.get(productKeys(product.id).stock), '100', 'on sale in Redis')
  t.same(await redis.hgetall(productKeys(product.id).info), { status: 'active', limit: '' })
  t.equal((await reserve(store, product.id, 3)).kind, 'reserved', 'a buyer can reserve at once')
})

t.test('a product is created with price, limit and a trimmed name', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis } = testStack(t)
  const name = uniqueName('full')
  const product = await postProduct(app, { name: `  ${name} `, stock: 7, price: 1999, perUserLimit: 2, imageUrl: null })
  t.match(product, { name, stock: 7, price: 1999, perUserLimit: 2, imageUrl: null })
  t.match(await mysqlProduct(mysql, product.id), { name, stock: 7, price: 1999, per_user_limit: 2, image_url: null })
  t.same(await redis.hgetall(productKeys(product.id).info), { status: 'active', limit: '2' })
})

t.test('the list pages active products newest first, filters by name, and shows live stock', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, store } = testStack(t)
  const tag = uniqueName('list')
  const made = []
  for (let i = 0; i < 5; i++) made.push(await postProduct(app, { name: `${tag} item ${i}`, stock: 10 + i }))
  const archived = await postProduct(app, { name: `${tag} gone`, stock: 1 })
  t.equal((await app.inject({ method: 'DELETE', url: `/products/${archived.id}`, headers: admin })).statusCode, 200)
  const first = made[4]!
  t.equal((await reserve(store, first.id, 4)).kind, 'reserved')

  const page1 = await app.inject(`/products?name=${encodeURIComponent(tag)}&pageSize=2&page=1`)
  t.equal(page1.statusCode, 200)
  const body1 = page1.json()
  t.match(body1, { page: 1, pageSize: 2, total: 5 }, 'archived products are not listed')
  t.same(body1.items.map((p: { id: number }) => p.id), [made[4]!.id, made[3]!.id], 'newest first')
  t.equal(body1.items[0].stock, 10, 'live Redis stock (14 − 4 reserved), not MySQL\'s 14')
  t.equal((await mysqlProduct(mysql, first.id))?.stock, 14, 'MySQL still says 14')
  const page3 = (await app.inject(`/products?name=${encodeURIComponent(tag)}&pageSize=2&page=3`)).json()
  t.same(page3.items.map((p: { id: number }) => p.id), [made[0]!.id])
  const one = (await app.inject(`/products?name=${encodeURIComponent(`${tag} item 3`)}`)).json()
  t.same(one.items.map((p: { id: number }) => p.id), [made[3]!.id], 'substring match')
  const wildcard = (await app.inject(`/products?name=${encodeURIComponent(`${tag}%`)}`)).json()
  t.equal(wildcard.total, 0, '% is a character, not a wildcard')
  const defaults = (await app.inject('/products')).json()
  t.match(defaults, { page: 1, pageSize: 20 })
  t.ok(defaults.items.length <= 20)
  t.ok(defaults.items.every((p: { status: string }) => p.status === 'active'))
})

t.test('a product is read with live stock, archived ones too; unknown ids are 404', async (t) => {
  const app = await buildTestApp(t)
  const { store } = testStack(t)
  const product = await postProduct(app, { stock: 5 })
  await reserve(store, product.id, 2)
  const res = await app.inject(`/products/${product.id}`)
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: product.id, stock: 3, status: 'active' })
  const missing = await app.inject('/products/999999999999')
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { code: 'PRODUCT_NOT_FOUND' })
})

t.test('PATCH changes details and publishes the per-user limit to the reservation script', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis, store } = testStack(t)
  const product = await postProduct(app, { stock: 10 })
  const name = uniqueName('renamed')
  const res = await app.inject({ method: 'PATCH', url: `/products/${product.id}`, headers: admin, payload: { name, price: 500, imageUrl: 'https://cdn.example.com/a.png', perUserLimit: 1 } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: product.id, name, price: 500, imageUrl: 'https://cdn.example.com/a.png', perUserLimit: 1, stock: 10 })
  t.match(await mysqlProduct(mysql, product.id), { name, price: 500, image_url: 'https://cdn.example.com/a.png', per_user_limit: 1, stock: 10 })
  t.equal(await redis.hget(productKeys(product.id).info, 'limit'), '1')
  t.equal((await reserve(store, product.id, 1, { userId: 'u1' })).kind, 'reserved')
  t.equal((await reserve(store, product.id, 1, { userId: 'u1' })).kind, 'per-user-limit', 'the limit is enforced at once')
  const cleared = await app.inject({ method: 'PATCH', url: `/products/${product.id}`, headers: admin, payload: { perUserLimit: null, imageUrl: null } })
  t.match(cleared.json(), { perUserLimit: null, imageUrl: null, name })
  t.equal(await redis.hget(productKeys(product.id).info, 'limit'), '')
  t.match(await mysqlProduct(mysql, product.id), { per_user_limit: null, image_url: null })
  const missing = await app.inject({ method: 'PATCH', url: '/products/999999999999', headers: admin, payload: { price: 1 } })
  t.equal(missing.statusCode, 404)
})

t.test('restock adds units to MySQL and to Redis during a sale, without overselling', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis, store } = testStack(t)
  const product = await postProduct(app, { stock: 50 })
  // Buyers keep reserving, in waves, while three restocks land: every unit put on sale is sold, and
  // none twice.
  let restocked = false
  const restocks = Promise.all([10, 20, 30].map((quantity) =>
    app.inject({ method: 'POST', url: `/products/${product.id}/restock`, headers: admin, payload: { quantity } })))
    .then((answers) => { restocked = true; return answers })
  let reserved = 0
  for (let wave = 0; wave < 100; wave++) {
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => reserve(store, product.id, 1)))
    reserved += outcomes.filter((o) => o.kind === 'reserved').length
    if (restocked && outcomes.some((o) => o.kind === 'insufficient-stock')) break
  }
  for (const answer of await restocks) t.equal(answer.statusCode, 200)
  t.equal(reserved, 110, 'all 50 + 60 units sold, none twice')
  t.equal((await mysqlProduct(mysql, product.id))?.stock, 110, 'MySQL has the units (the processor has not applied any order)')
  const snap = await store.snapshot(product.id)
  t.equal(snap.available, 0)
  t.equal(snap.pending, 110)
  t.equal(snap.available! + snap.pending, 110, 'Redis available + pending = MySQL stock')
  const after = await app.inject({ method: 'POST', url: `/products/${product.id}/restock`, headers: admin, payload: { quantity: 5 } })
  t.match(after.json(), { stock: 5 })
  t.equal((await store.snapshot(product.id)).available, 5)
  t.equal(await redis.hlen(productKeys(product.id).changes), 0, 'no change left registered')
})

t.test('restock of an archived product is refused, of an unknown one is 404', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis } = testStack(t)
  const product = await postProduct(app, { stock: 4 })
  await app.inject({ method: 'DELETE', url: `/products/${product.id}`, headers: admin })
  const refused = await app.inject({ method: 'POST', url: `/products/${product.id}/restock`, headers: admin, payload: { quantity: 3 } })
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { code: 'PRODUCT_ARCHIVED' })
  t.equal((await mysqlProduct(mysql, product.id))?.stock, 4)
  t.equal(await redis.get(productKeys(product.id).stock), '4')
  t.equal(await redis.hlen(productKeys(product.id).changes), 0)
  const missing = await app.inject({ method: 'POST', url: '/products/999999999999/restock', headers: admin, payload: { quantity: 3 } })
  t.equal(missing.statusCode, 404)
})

t.test('archiving takes the product out of the shop, refuses new orders and keeps its history', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis, store } = testStack(t)
  const name = uniqueName('archive')
  const product = await postProduct(app, { name, stock: 8 })
  // An order the processor already wrote: archiving must not touch it.
  const orderId = newOrderId()
  await mysql.query('INSERT INTO orders (id, product_id, user_id, quantity, status, created_at) VALUES (?, ?, ?, ?, \'confirmed\', CURRENT_TIMESTAMP(3))',
    [orderId, product.id, 'history-user', 1])
  t.teardown(() => mysql.query('DELETE FROM orders WHERE id = ?', [orderId]))

  const res = await app.inject({ method: 'DELETE', url: `/products/${product.id}`, headers: admin })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: product.id, status: 'archived', name })
  t.equal((await mysqlProduct(mysql, product.id))?.status, 'archived')
  t.equal(await redis.hget(productKeys(product.id).info, 'status'), 'archived')
  t.same(await reserve(store, product.id, 1), { kind: 'not-on-sale' }, 'new orders are refused')
  const listed = (await app.inject(`/products?name=${encodeURIComponent(name)}`)).json()
  t.equal(listed.total, 0, 'not in the shop')
  t.match((await app.inject(`/products/${product.id}`)).json(), { status: 'archived' }, 'still readable by id')
  const [orders] = await mysql.query<RowDataPacket[]>('SELECT status FROM orders WHERE id = ?', [orderId])
  t.same(orders.map((o) => o.status), ['confirmed'], 'order history stays')

  const again = await app.inject({ method: 'DELETE', url: `/products/${product.id}`, headers: admin })
  t.equal(again.statusCode, 200, 'archiving twice is fine')
  // A sync must not bring an archived product back on sale.
  await app.inject({ method: 'POST', url: '/admin/stock/sync', headers: admin, payload: { productIds: [product.id] } })
  t.equal(await redis.hget(productKeys(product.id).info, 'status'), 'archived')
  const missing = await app.inject({ method: 'DELETE', url: '/products/999999999999', headers: admin })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { code: 'PRODUCT_NOT_FOUND' })
})

t.test('the OpenAPI document describes every route', async (t) => {
  const app = await buildTestApp(t)
  const doc = (await app.inject('/docs/json')).json()
  for (const path of ['/products', '/products/{id}', '/products/{id}/restock', '/admin/stock/sync', '/admin/stock/reconcile', '/admin/stock/release-stale']) {
    t.ok(doc.paths[path], path)
  }
  t.ok(doc.paths['/products'].post.requestBody, 'the create body schema is published')
  t.equal((await app.inject('/health/ready')).statusCode, 200)
})
