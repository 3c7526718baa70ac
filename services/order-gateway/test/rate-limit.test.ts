import t from 'tap'
import { ErrorCode } from '@flash/common'
import { useTestStack, createTestTopic, testConfig, buildTestApp, createProduct, snapshot, post, asAdmin } from './helper.ts'

useTestStack(t)
const topic = await createTestTopic(t)

t.test('POST /orders is rate limited per client address, behind nginx too, with the shared error shape', async (t) => {
  const app = await buildTestApp(t, testConfig(topic, { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' }))
  const product = await createProduct({ stock: 100 })
  // nginx on loopback forwards the buyer's address; a fresh address per run keeps the counter ours.
  const buyer = `10.${product.id % 250}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`
  const viaNginx = { 'x-forwarded-for': buyer }
  const answers = []
  for (let i = 0; i < 5; i++) answers.push(await post(app, { productId: product.id, quantity: 1 }, viaNginx))
  t.same(answers.map((a) => a.statusCode), [202, 202, 202, 429, 429])
  const limited = answers[3]
  t.match(limited?.json(), { statusCode: 429, code: ErrorCode.RATE_LIMITED, error: 'Too Many Requests' })
  t.ok(Number(limited?.headers['retry-after']) > 0, 'Retry-After')
  t.equal((await snapshot(product.id)).available, 97, 'refused requests reserved nothing')

  const otherBuyer = await post(app, { productId: product.id, quantity: 1 }, { 'x-forwarded-for': `${buyer.split('.').slice(0, 3).join('.')}.251` })
  t.equal(otherBuyer.statusCode, 202, 'another buyer behind the same nginx has its own budget')
  t.equal((await app.inject({ url: `/orders?productId=${product.id}`, headers: asAdmin })).statusCode, 200, 'reads are not limited')

  // A client that is not a trusted proxy cannot pick its own address with X-Forwarded-For.
  const direct = { method: 'POST' as const, url: '/orders', remoteAddress: `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`, headers: { 'content-type': 'application/json', 'x-forwarded-for': buyer } }
  const spoofed = await app.inject({ ...direct, payload: { productId: product.id, quantity: 1 } })
  t.equal(spoofed.statusCode, 202, 'counted under its own address, not the forwarded one')
})

t.test('TRUSTED_PROXIES narrows whose X-Forwarded-For is believed', async (t) => {
  const app = await buildTestApp(t, testConfig(topic, { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_SECONDS: '60', TRUSTED_PROXIES: '127.0.0.1' }))
  const product = await createProduct({ stock: 100 })
  // A client on a private range is no longer a trusted proxy: rotating X-Forwarded-For buys it nothing.
  const client = `10.${product.id % 250}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`
  const statuses = []
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: '/orders', remoteAddress: client, headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${i}` }, payload: { productId: product.id, quantity: 1 } })
    statuses.push(res.statusCode)
  }
  t.same(statuses, [202, 202, 429])
  t.equal((await snapshot(product.id)).available, 98, 'the refused request reserved nothing')
})
