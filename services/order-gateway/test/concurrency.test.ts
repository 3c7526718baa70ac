import t from 'tap'
import { ErrorCode } from '@flash/common'
import { useTestStack, createTestTopic, testConfig, buildTestApp, createProduct, snapshot, TopicReader, post, asBuyer } from './helper.ts'

useTestStack(t)
const topic = await createTestTopic(t)

t.test('1,000 buyers at once for 100 units: exactly 100 orders, 100 messages, the rest sold out', async (t) => {
  const app = await buildTestApp(t, testConfig(topic))
  const reader = await new TopicReader(topic).start(t)
  const product = await createProduct({ stock: 100, perUserLimit: 1 })
  const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) =>
    post(app, { productId: product.id, quantity: 1 }, asBuyer(`crowd-${i}`))))

  const accepted = answers.filter((a) => a.statusCode === 202)
  const refused = answers.filter((a) => a.statusCode === 409)
  t.equal(accepted.length, 100, '100 × 202')
  t.equal(refused.length, 900, '900 × 409')
  t.ok(refused.every((a) => a.json().code === ErrorCode.INSUFFICIENT_STOCK && a.json().available === 0), 'refused as sold out only at 0 units')
  const ids = new Set(accepted.map((a) => a.json().orderId))
  t.equal(ids.size, 100, 'distinct order ids')

  const snap = await snapshot(product.id)
  t.equal(snap.available, 0, 'Redis stock 0')
  t.equal(snap.pending, 100, '100 units reserved')
  t.same(new Set(snap.ledger.map((e) => e.orderId)), ids, 'the ledger holds exactly the accepted orders')

  const published = await reader.waitFor((r) => r.message.productId === product.id, 100)
  t.equal(published.length, 100, '100 messages')
  t.same(new Set(published.map((r) => r.key)), ids, 'one message per accepted order, keyed by order id')

  // The micro-batcher shared produce calls: fewer batches than messages.
  const metrics = (await app.inject('/metrics')).body
  const batches = Number(/order_publish_batch_size_count\{service="order-gateway"\} (\d+)/.exec(metrics)?.[1])
  t.ok(batches > 0 && batches < 100, `100 messages in ${batches} produce calls`)
})
