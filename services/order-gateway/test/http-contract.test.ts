import t from 'tap'
import { newOrderId } from '@flash/common'
import { createProduct, testStack } from '@flash/common/test-support'
import { createTestTopic, testConfig, buildTestApp, insertOrder, asAdmin } from './helper.ts'

// The gateway's HTTP contract where it once differed from its OpenAPI document (docs/ARCHITECTURE.md §5):
// 405 + Allow, one rule for unknown query parameters (shared with the catalog), optional page parameters.

const stack = testStack(t)
const topic = await createTestTopic(t)
const app = await buildTestApp(t, testConfig(topic))

t.test('an unknown method on a known path answers 405 with Allow, and reserves nothing', async (t) => {
  const product = await createProduct(stack, { stock: 5 })
  const put = await app.inject({ method: 'PUT', url: '/orders', payload: { productId: product.id, quantity: 1 } })
  t.equal(put.statusCode, 405)
  t.equal(put.headers.allow, 'GET, HEAD, POST')
  t.match(put.json(), { statusCode: 405, code: 'METHOD_NOT_ALLOWED' })
  t.match(await stack.store.snapshot(product.id), { available: 5, pending: 0 }, 'no units reserved')

  const patch = await app.inject({ method: 'PATCH', url: `/orders/${newOrderId()}`, payload: {} })
  t.equal(patch.statusCode, 405)
  t.equal(patch.headers.allow, 'DELETE, GET, HEAD')
  t.equal((await app.inject({ method: 'PUT', url: '/nowhere' })).statusCode, 404)
})

t.test('unknown query parameters: 400 naming the parameter, as in the catalog; page and pageSize may be left out', async (t) => {
  const product = await createProduct(stack, { stock: 5 })
  const id = newOrderId()
  await insertOrder(stack, { id, productId: product.id, userId: 'contract', quantity: 1, status: 'confirmed' })

  const bad = await app.inject({ url: `/orders?productId=${product.id}&sort=asc`, headers: asAdmin })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'VALIDATION_FAILED', message: "querystring must NOT have additional property 'sort'" })
  const one = await app.inject({ url: `/orders/${id}?expand=product`, headers: asAdmin })
  t.equal(one.statusCode, 400)
  t.match(one.json().message, /'expand'/)
  const place = await app.inject({ method: 'POST', url: '/orders?dryRun=1', payload: { productId: product.id, quantity: 1 } })
  t.equal(place.statusCode, 400, 'an order with an unknown parameter is refused, not placed')
  t.match(await stack.store.snapshot(product.id), { available: 5, pending: 0 })

  // Listing everyone's orders of a product takes the admin token (a buyer lists its own).
  const page = await app.inject({ url: `/orders?productId=${product.id}`, headers: asAdmin })
  t.equal(page.statusCode, 200)
  t.match(page.json(), { page: 1, pageSize: 20, total: 1, items: [{ orderId: id }] })
})

t.test('the document: no /api server when fetched directly, the /api server and no health routes through nginx', async (t) => {
  const direct = (await app.inject('/docs/json')).json()
  t.same(direct.servers, [])
  t.ok(direct.paths['/health/ready'])
  const params = direct.paths['/orders'].get.parameters as Array<{ name: string, required: boolean }>
  t.same(params.filter((p) => p.required).map((p) => p.name), [], 'no required query parameter on GET /orders')

  const proxied = (await app.inject({ url: '/docs/json', headers: { 'x-forwarded-prefix': '/docs/gateway' } })).json()
  t.same(proxied.servers, [{ url: '/api', description: 'through nginx' }])
  t.same(Object.keys(proxied.paths).sort(), ['/orders', '/orders/sales', '/orders/{id}', '/rooms/{productId}', '/rooms/{productId}/challenge', '/rooms/{productId}/join', '/rooms/{productId}/status'])
})

t.test('every order route documents the 503 it may answer (a dependency down, or load shed)', async (t) => {
  const doc = (await app.inject('/docs/json')).json()
  for (const [path, method] of [['/orders', 'post'], ['/orders', 'get'], ['/orders/{id}', 'get'], ['/orders/{id}', 'delete']] as const) {
    t.ok(doc.paths[path][method].responses['503'], `${method.toUpperCase()} ${path} documents 503`)
  }
})
