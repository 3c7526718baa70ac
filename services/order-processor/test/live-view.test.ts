import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { createAccessTokenSigner, MessageType, SCHEMA_VERSION, productKeys, type App } from '@flash/common'
import { createProduct, waitUntil } from '@flash/common/test-support'
import { buildApp as buildGateway } from '../../order-gateway/src/app.ts'
import { loadCatalogConfig } from '../../catalog-service/src/config.ts'
import { buildApp as buildCatalog } from '../../catalog-service/src/app.ts'
import { MAX_LIVE_STREAMS } from '../../catalog-service/src/live/feed.ts'
import { readLiveStream, pointsOf, type LivePoint } from '../../../frontend/src/live-stream.ts'
import { createStack, startProcessor, waitForStatus, until, gatewayConfigFor } from './helper.ts'

// The operator's live sale view end to end (docs/ARCHITECTURE.md §11): two gateway replicas count
// their answers and flush each second to Redis, the processor reports its consumer lag, and the
// catalog's one reader streams per-product seconds. What the stream says is held against where the
// truth lives: the answers the buyers got, Redis stock and MySQL's orders.

const AUTH_JWT_SECRET = 'live-view-test-auth-secret-0123456789abcdef'
const ADMIN_TOKEN = 'live-view-test-admin-token'
const stack = await createStack('live')
const processor = await startProcessor(stack)
const gateways = [await buildGateway(gatewayConfigFor(stack, { AUTH_JWT_SECRET, ADMIN_TOKEN })), await buildGateway(gatewayConfigFor(stack, { AUTH_JWT_SECRET, ADMIN_TOKEN }))]
const catalog = await buildCatalog(loadCatalogConfig({
  ...process.env, LOG_LEVEL: 'error', ADMIN_TOKEN, AUTH_JWT_SECRET, KAFKA_ORDERS_TOPIC: stack.config.KAFKA_ORDERS_TOPIC, STALE_SWEEP_SECONDS: '0'
}))
await catalog.listen({ host: '127.0.0.1', port: 0 })
const address = catalog.server.address()
const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
t.teardown(async () => {
  await catalog.close()
  await Promise.all(gateways.map((g: App) => g.close()))
  await processor.close()
  await stack.close()
})
for (const gateway of gateways) await until(async () => (await gateway.inject({ url: '/health/ready' })).statusCode === 200, 30_000, 'a gateway is ready')

const signAccessToken = createAccessTokenSigner(AUTH_JWT_SECRET)
const asBuyer = (id: string) => ({ authorization: `Bearer ${signAccessToken({ id, username: id })}` })
const PRICE = 500

/** Opens a stream and collects its points until the test ends. */
function watch (t: Tap, productIds: number[]): { points: LivePoint[], opened: Promise<void> } {
  const points: LivePoint[] = []
  const abort = new AbortController()
  let opened!: () => void
  const openedPromise = new Promise<void>((resolve) => { opened = resolve })
  const url = `${base}/admin/live?${productIds.map((id) => `productId=${id}`).join('&')}`
  const reading = readLiveStream(url, ADMIN_TOKEN, abort.signal, (event) => {
    if (event.event === 'history') opened()
    points.push(...pointsOf(event))
  }).catch((err: unknown) => { if (!abort.signal.aborted) throw err })
  t.teardown(async () => { abort.abort(); await reading })
  return { points, opened: openedPromise }
}
type Tap = { teardown: (fn: () => unknown) => void }

async function mysqlUnits (productId: number, status: string): Promise<number> {
  const [rows] = await stack.mysql.query<Array<RowDataPacket & { units: string | null }>>(
    'SELECT SUM(quantity) AS units FROM orders WHERE product_id = ? AND status = ?', [productId, status])
  return Number(rows[0]?.units ?? 0)
}
const latest = (points: LivePoint[], productId: number): LivePoint | undefined => points.filter((p) => p.productId === productId).at(-1)
const sum = (points: LivePoint[], productId: number, field: 'accepted' | 'refused'): number =>
  points.filter((p) => p.productId === productId).reduce((n, p) => n + p[field], 0)

t.test('orders placed on two gateways show up in the stream within about 2 s, counted once; stock, held and paid as Redis and MySQL hold them', async (t) => {
  const productId = (await createProduct(stack, { stock: 10, price: PRICE })).id
  const other = (await createProduct(stack, { stock: 5 })).id
  const live = watch(t, [productId, other])
  await live.opened

  // 14 buyers for 10 units, alternating between the replicas.
  const answers = await Promise.all(Array.from({ length: 14 }, (_, i) => (gateways[i % 2] as App).inject({
    method: 'POST', url: '/orders', headers: asBuyer(`live-buyer-${i}`), payload: { productId, quantity: 1 }
  })))
  const answeredAt = Date.now()
  const accepted = answers.filter((a) => a.statusCode === 202)
  t.equal(accepted.length, 10, 'the buyers were told: 10 accepted')
  t.equal(answers.filter((a) => a.statusCode === 409).length, 4, 'and 4 refused')

  await waitUntil('the stream counts 10 accepted and 4 refused', async () =>
    sum(live.points, productId, 'accepted') === 10 && sum(live.points, productId, 'refused') === 4 ? true : undefined, 10_000)
  const seenAfterMs = Date.now() - answeredAt
  t.ok(seenAfterMs <= 2500, `the counts were in the stream ${seenAfterMs} ms after the last answer`)
  t.ok(live.points.filter((p) => p.productId === productId && p.accepted + p.refused > 0).every((p) => p.p50Ms !== null && p.p99Ms !== null && p.p50Ms <= p.p99Ms),
    'every second with answers has p50 ≤ p99')
  t.equal(sum(live.points, other, 'accepted') + sum(live.points, other, 'refused'), 0, 'the other product had no orders and shows none')

  // The processor writes the 10 orders awaiting payment: the stream's held units follow MySQL.
  await waitUntil('the stream shows 10 held units and stock 0', async () => {
    const point = latest(live.points, productId)
    return point?.unitsHeld === 10 && point.stock === 0 ? point : undefined
  }, 30_000)
  t.equal(await mysqlUnits(productId, 'awaiting_payment'), 10, 'MySQL holds 10 units awaiting payment')
  t.equal(await stack.redis.get(productKeys(productId).stock), '0', 'Redis stock is 0')
  const otherPoint = latest(live.points, other)
  t.equal(otherPoint?.stock, 5, 'the other product\'s stock is its Redis stock')

  // One buyer pays: held → paid, in MySQL and in the stream.
  const { orderId } = (accepted[0] as { json: () => { orderId: string } }).json()
  await stack.publish([{
    type: MessageType.ORDER_PAID, version: SCHEMA_VERSION, orderId, productId, paymentId: `pi_live_${orderId}`, amount: PRICE,
    currency: stack.config.PAYMENT_CURRENCY, requestId: 'live-view-test', paidAt: new Date().toISOString()
  }])
  await waitForStatus(stack, orderId, 'paid')
  await waitUntil('the stream shows 1 paid and 9 held', async () => {
    const point = latest(live.points, productId)
    return point?.unitsPaid === 1 && point.unitsHeld === 9 ? point : undefined
  }, 10_000)
  t.equal(await mysqlUnits(productId, 'paid'), 1, 'MySQL: 1 unit paid')
  t.equal(await mysqlUnits(productId, 'awaiting_payment'), 9, 'MySQL: 9 units held')
  // The processor measures the lag only while a view is open, so its first number may come a few
  // seconds after the view opened on a loaded machine (a Kafka admin connection first).
  const lag = await waitUntil('the processor\'s consumer lag is in the stream', async () => latest(live.points, productId)?.kafkaLag ?? undefined, 15_000)
  t.type(lag, 'number', 'the processor\'s consumer lag is reported')
  await waitUntil('the lag is 0 once the processor caught up', async () => latest(live.points, productId)?.kafkaLag === 0 ? true : undefined, 10_000)
})

t.test('the stream is the admin\'s: no token 401, a wrong one 403, bad products 400 naming the field, past the cap 503', async (t) => {
  const url = `${base}/admin/live?productId=1`
  t.equal((await fetch(url)).status, 401)
  t.equal((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status, 403)
  const bad = await fetch(`${base}/admin/live?productId=abc`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(bad.status, 400)
  t.match(await bad.text(), /querystring\/productId/, 'the message names the field')
  const tooMany = await fetch(`${base}/admin/live?${Array.from({ length: 21 }, (_, i) => `productId=${i + 1}`).join('&')}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(tooMany.status, 400, 'at most 20 products per view')

  const views = Array.from({ length: MAX_LIVE_STREAMS }, () => watch(t, [1]))
  await Promise.all(views.map((v) => v.opened))
  const refused = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  t.equal(refused.status, 503, `a view past the ${MAX_LIVE_STREAMS} open ones is told to retry`)
  t.equal(refused.headers.get('retry-after'), '1')
})
