import t from 'tap'
import { testStack, uniqueName } from '@flash/common/test-support'
import { admin, buildTestApp, countProductsNamed, postProduct, mysqlProduct, redisKeysOf } from './helper.ts'

// Every admin route: 401 without a token, 403 with a wrong one, checked before the body is even
// validated, and nothing is written either way.

t.test('admin routes answer 401 without a token and 403 with a wrong one, writing nothing', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis } = testStack(t)
  const product = await postProduct(app, { stock: 6 })
  const name = uniqueName('unauthorised')
  const routes = [
    { method: 'POST' as const, url: '/products', payload: { name, stock: 5 } },
    { method: 'PATCH' as const, url: `/products/${product.id}`, payload: { name } },
    { method: 'POST' as const, url: `/products/${product.id}/restock`, payload: { quantity: 5 } },
    { method: 'DELETE' as const, url: `/products/${product.id}` },
    { method: 'POST' as const, url: '/admin/stock/sync', payload: { productIds: [product.id] } },
    { method: 'GET' as const, url: '/admin/stock/reconcile' },
    { method: 'POST' as const, url: '/admin/stock/release-stale', payload: { productIds: [product.id] } }
  ]
  const rowBefore = await mysqlProduct(mysql, product.id)
  const redisBefore = await redisKeysOf(redis, product.id)
  const credentials: Array<[string, Record<string, string>, number, string]> = [
    ['no header', {}, 401, 'UNAUTHORIZED'],
    ['empty header', { authorization: '' }, 401, 'UNAUTHORIZED'],
    ['wrong token', { authorization: 'Bearer not-the-admin-token' }, 403, 'FORBIDDEN'],
    ['not a bearer', { authorization: 'Basic YWRtaW46YWRtaW4=' }, 403, 'FORBIDDEN'],
    ['token prefix', { authorization: `Bearer ${admin.authorization.slice(7, 12)}` }, 403, 'FORBIDDEN']
  ]
  for (const route of routes) {
    for (const [label, headers, status, code] of credentials) {
      const res = await app.inject({ ...route, headers })
      t.equal(res.statusCode, status, `${route.method} ${route.url}: ${label}`)
      t.equal(res.json().code, code)
    }
    // Auth comes before validation: an anonymous caller learns nothing about the schema.
    const bad = await app.inject({ method: route.method, url: route.url, headers: { 'content-type': 'application/json' }, payload: '{"nope":' })
    t.equal(bad.statusCode, 401, `${route.method} ${route.url}: malformed body without a token is 401`)
  }
  t.equal((await app.inject({ ...routes[0]!, headers: {} })).headers['www-authenticate'], 'Bearer')
  t.equal(await countProductsNamed(mysql, name), 0, 'no product created')
  t.same(await mysqlProduct(mysql, product.id), rowBefore, 'the product row is unchanged')
  t.same(await redisKeysOf(redis, product.id), redisBefore, 'its Redis keys are unchanged')
  const ok = await app.inject({ method: 'GET', url: '/admin/stock/reconcile', headers: admin })
  t.equal(ok.statusCode, 200, 'the right token passes')
})

t.test('reads are public', async (t) => {
  const app = await buildTestApp(t)
  const product = await postProduct(app)
  t.equal((await app.inject('/products')).statusCode, 200)
  t.equal((await app.inject(`/products/${product.id}`)).statusCode, 200)
})
