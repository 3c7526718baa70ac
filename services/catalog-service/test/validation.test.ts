import t from 'tap'
import { testStack, uniqueName } from '@flash/common/test-support'
import { admin, buildTestApp, countProductsNamed, postProduct, mysqlProduct, redisKeysOf } from './helper.ts'

// Every bad input is a 4xx naming the field, and writes nothing: no product row with the test's name
// prefix appears, and an existing product's MySQL row and Redis keys stay exactly as they were.

const json = { ...admin, 'content-type': 'application/json' }

t.test('bad create bodies are refused with the field named, and nothing is written', async (t) => {
  const app = await buildTestApp(t)
  const { mysql } = testStack(t)
  const prefix = uniqueName('bad-create')
  const name = `${prefix} ok`
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing name', { stock: 1 }, /body must have required property 'name'/],
    ['empty name', { name: '', stock: 1 }, /body\/name must NOT have fewer than 1 characters/],
    ['blank name', { name: '   ', stock: 1 }, /body\/name must match pattern/],
    ['over-long name', { name: `${prefix}${'x'.repeat(201)}`, stock: 1 }, /body\/name must NOT have more than 200 characters/],
    ['name not a string', { name: 42, stock: 1 }, /body\/name must be string/],
    ['missing stock', { name }, /body must have required property 'stock'/],
    ['negative stock', { name, stock: -1 }, /body\/stock must be >= 0/],
    ['fractional stock', { name, stock: 1.5 }, /body\/stock must be integer/],
    ['string stock', { name, stock: '100' }, /body\/stock must be integer/],
    ['stock over the maximum', { name, stock: 1_000_001 }, /body\/stock must be <= 1000000/],
    ['null stock', { name, stock: null }, /body\/stock must be integer/],
    ['negative price', { name, stock: 1, price: -5 }, /body\/price must be >= 0/],
    ['fractional price', { name, stock: 1, price: 9.99 }, /body\/price must be integer/],
    ['price over the maximum', { name, stock: 1, price: 100_000_001 }, /body\/price must be <= 100000000/],
    ['non-http imageUrl', { name, stock: 1, imageUrl: 'ftp://example.com/a.jpg' }, /body\/imageUrl must match pattern/],
    ['javascript: imageUrl', { name, stock: 1, imageUrl: 'javascript:alert(1)' }, /body\/imageUrl must match pattern/],
    ['imageUrl matching the pattern but no URL', { name, stock: 1, imageUrl: 'http://r6C[' }, /body\/imageUrl must be a valid http\(s\) URL/],
    ['over-long imageUrl', { name, stock: 1, imageUrl: `http://example.com/${'a'.repeat(2048)}` }, /body\/imageUrl must NOT have more than 2048 characters/],
    ['perUserLimit 0', { name, stock: 1, perUserLimit: 0 }, /body\/perUserLimit must be >= 1/],
    ['perUserLimit over the maximum', { name, stock: 1, perUserLimit: 1001 }, /body\/perUserLimit must be <= 1000/],
    ['unknown property', { name, stock: 1, discount: 10 }, /body must NOT have additional property 'discount'/],
    ['an array', [{ name, stock: 1 }], /body must be object/]
  ]
  for (const [label, payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/products', headers: admin, payload: payload as object })
    t.equal(res.statusCode, 400, label)
    t.match(res.json(), { statusCode: 400, code: 'VALIDATION_FAILED', error: 'Bad Request', message }, label)
  }
  const malformed = await app.inject({ method: 'POST', url: '/products', headers: json, payload: `{"name":"${name}","stock":1` })
  t.equal(malformed.statusCode, 400, 'malformed JSON')
  t.equal(malformed.json().code, 'INVALID_JSON')
  const empty = await app.inject({ method: 'POST', url: '/products', headers: json, payload: '' })
  t.equal(empty.statusCode, 400, 'empty JSON body')
  const oversized = await app.inject({ method: 'POST', url: '/products', headers: json, payload: JSON.stringify({ name, stock: 1, imageUrl: `http://example.com/${'a'.repeat(17 * 1024)}` }) })
  t.equal(oversized.statusCode, 413, 'a body over 16 KiB is refused before it is parsed')
  t.equal(oversized.json().code, 'BODY_TOO_LARGE')
  const text = await app.inject({ method: 'POST', url: '/products', headers: { ...admin, 'content-type': 'text/plain' }, payload: 'name=x' })
  t.equal(text.statusCode, 415)
  t.equal(await countProductsNamed(mysql, prefix), 0, 'no product was created by any of them')
})

t.test('bad ids, changes and restocks are refused, and the product is untouched', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis } = testStack(t)
  const product = await postProduct(app, { stock: 12, price: 100 })
  const rowBefore = await mysqlProduct(mysql, product.id)
  const redisBefore = await redisKeysOf(redis, product.id)
  const id = product.id
  const cases: Array<[string, { method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown }, RegExp]> = [
    ['id not numeric', { method: 'GET', url: '/products/abc' }, /params\/id must be integer/],
    ['id zero', { method: 'GET', url: '/products/0' }, /params\/id must be >= 1/],
    ['id negative', { method: 'GET', url: '/products/-3' }, /params\/id must be >= 1/],
    ['id fractional', { method: 'GET', url: '/products/1.5' }, /params\/id must be integer/],
    ['id huge', { method: 'GET', url: '/products/99999999999999999999' }, /params\/id must be <=/],
    ['patch bad id', { method: 'PATCH', url: '/products/abc', payload: { price: 1 } }, /params\/id/],
    ['restock bad id', { method: 'POST', url: '/products/0/restock', payload: { quantity: 1 } }, /params\/id/],
    ['delete bad id', { method: 'DELETE', url: '/products/abc' }, /params\/id/],
    ['patch empty', { method: 'PATCH', url: `/products/${id}`, payload: {} }, /body must NOT have fewer than 1 properties/],
    ['patch empty name', { method: 'PATCH', url: `/products/${id}`, payload: { name: '' } }, /body\/name/],
    ['patch long name', { method: 'PATCH', url: `/products/${id}`, payload: { name: 'x'.repeat(201) } }, /body\/name/],
    ['patch string price', { method: 'PATCH', url: `/products/${id}`, payload: { price: '5' } }, /body\/price must be integer/],
    ['patch bad image', { method: 'PATCH', url: `/products/${id}`, payload: { imageUrl: 'data:image/png;base64,AAAA' } }, /body\/imageUrl/],
    ['patch image URL that does not parse', { method: 'PATCH', url: `/products/${id}`, payload: { imageUrl: 'https://[::1' } }, /body\/imageUrl must be a valid http\(s\) URL/],
    ['patch stock', { method: 'PATCH', url: `/products/${id}`, payload: { stock: 1000 } }, /body must NOT have additional property 'stock'/],
    ['patch status', { method: 'PATCH', url: `/products/${id}`, payload: { status: 'active' } }, /body must NOT have additional property 'status'/],
    ['restock zero', { method: 'POST', url: `/products/${id}/restock`, payload: { quantity: 0 } }, /body\/quantity must be >= 1/],
    ['restock negative', { method: 'POST', url: `/products/${id}/restock`, payload: { quantity: -5 } }, /body\/quantity must be >= 1/],
    ['restock fractional', { method: 'POST', url: `/products/${id}/restock`, payload: { quantity: 2.5 } }, /body\/quantity must be integer/],
    ['restock string', { method: 'POST', url: `/products/${id}/restock`, payload: { quantity: '5' } }, /body\/quantity must be integer/],
    ['restock too many', { method: 'POST', url: `/products/${id}/restock`, payload: { quantity: 1_000_001 } }, /body\/quantity must be <= 1000000/],
    ['restock missing', { method: 'POST', url: `/products/${id}/restock`, payload: {} }, /body must have required property 'quantity'/],
    ['restock unknown property', { method: 'POST', url: `/products/${id}/restock`, payload: { quantity: 1, note: 'x' } }, /additional property 'note'/],
    ['list page 0', { method: 'GET', url: '/products?page=0' }, /querystring\/page must be >= 1/],
    ['list pageSize 101', { method: 'GET', url: '/products?pageSize=101' }, /querystring\/pageSize must be <= 100/],
    ['list pageSize text', { method: 'GET', url: '/products?pageSize=ten' }, /querystring\/pageSize must be integer/],
    ['list long name', { method: 'GET', url: `/products?name=${'x'.repeat(201)}` }, /querystring\/name/],
    ['sync ids not integers', { method: 'POST', url: '/admin/stock/sync', payload: { productIds: ['1'] } }, /body\/productIds\/0 must be integer/],
    ['sync ids empty', { method: 'POST', url: '/admin/stock/sync', payload: { productIds: [] } }, /body\/productIds must NOT have fewer than 1 items/],
    ['sync unknown property', { method: 'POST', url: '/admin/stock/sync', payload: { all: true } }, /additional property 'all'/],
    ['reconcile bad age', { method: 'GET', url: '/admin/stock/reconcile?staleAfterSeconds=0' }, /querystring\/staleAfterSeconds must be >= 1/]
  ]
  for (const [label, request, message] of cases) {
    const res = await app.inject({ method: request.method, url: request.url, headers: admin, ...(request.payload !== undefined ? { payload: request.payload as object } : {}) })
    t.equal(res.statusCode, 400, label)
    t.match(res.json(), { code: 'VALIDATION_FAILED', message }, label)
  }
  for (const url of [`/products/${id}`, `/products/${id}/restock`]) {
    const method = url.endsWith('restock') ? 'POST' as const : 'PATCH' as const
    const malformed = await app.inject({ method, url, headers: json, payload: '{"price": 1,' })
    t.equal(malformed.statusCode, 400, `${method} ${url}: malformed JSON`)
    t.equal(malformed.json().code, 'INVALID_JSON')
    const oversized = await app.inject({ method, url, headers: json, payload: JSON.stringify({ name: 'x'.repeat(20_000) }) })
    t.equal(oversized.statusCode, 413, `${method} ${url}: oversized body`)
  }
  const large = await app.inject({ method: 'POST', url: `/products/${id}/restock`, headers: admin, payload: { quantity: 1_000_000 } })
  t.equal(large.statusCode, 200, 'a large but sane restock is fine')
  t.equal((await mysqlProduct(mysql, id))?.stock, 1_000_012)
  // Put the product back as it was for the "untouched" assertion.
  await mysql.query('UPDATE products SET stock = stock - 1000000 WHERE id = ?', [id])
  await app.inject({ method: 'POST', url: '/admin/stock/sync', headers: admin, payload: { productIds: [id] } })
  const rowAfter = await mysqlProduct(mysql, id)
  t.same({ ...rowAfter }, { ...rowBefore }, 'the product row is as before')
  const redisAfter = await redisKeysOf(redis, id)
  t.same({ ...redisAfter, seq: undefined }, { ...redisBefore, seq: undefined }, 'its Redis stock, info and ledger are as before')
})

t.test('nothing is written by bad input on an untouched product, not even the change counter', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis } = testStack(t)
  const product = await postProduct(app, { stock: 3 })
  const rowBefore = await mysqlProduct(mysql, product.id)
  const redisBefore = await redisKeysOf(redis, product.id)
  const bad = [
    { method: 'PATCH' as const, url: `/products/${product.id}`, payload: { perUserLimit: 0 } },
    { method: 'PATCH' as const, url: `/products/${product.id}`, payload: { name: 'ok', extra: 1 } },
    { method: 'POST' as const, url: `/products/${product.id}/restock`, payload: { quantity: 0 } }
  ]
  for (const request of bad) t.equal((await app.inject({ ...request, headers: admin })).statusCode, 400)
  t.same(await mysqlProduct(mysql, product.id), rowBefore)
  t.same(await redisKeysOf(redis, product.id), redisBefore)
})
