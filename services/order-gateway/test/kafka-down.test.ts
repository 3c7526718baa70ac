import t from 'tap'
import { ErrorCode, pendingOrderKey } from '@flash/common'
import { useTestStack, createTestTopic, testConfig, buildTestApp, createProduct, snapshot, tombstoneExists, TopicReader, post, stock, redis, asBuyer } from './helper.ts'

// Kafka unreachable is simulated with a broker address nothing listens on; the shared broker stays up.
useTestStack(t)
const topic = await createTestTopic(t)

t.test('Kafka unreachable: 503 with Retry-After, the reservation undone; a retry with the same key then works', async (t) => {
  const product = await createProduct({ stock: 10, perUserLimit: 5 })
  const down = await buildTestApp(t, testConfig(topic, { KAFKA_BROKERS: '127.0.0.1:9', PUBLISH_TIMEOUT_MS: '500' }), { waitForKafka: false })

  const ready = await down.inject('/health/ready')
  t.equal(ready.statusCode, 503, 'not ready without Kafka')
  t.match(ready.json().checks, { kafka: /error/, mysql: 'ok', redis: 'ok' })

  const body = { productId: product.id, quantity: 2 }
  const buyer = asBuyer('retrying-user')
  const key = `retry-${product.id}`
  const refused = await post(down, body, { 'idempotency-key': key, ...buyer })
  t.equal(refused.statusCode, 503)
  t.equal(refused.headers['retry-after'], '1')
  t.match(refused.json(), { statusCode: 503, code: ErrorCode.SERVICE_UNAVAILABLE })

  const snap = await snapshot(product.id)
  t.equal(snap.available, 10, 'stock given back')
  t.equal(snap.ledger.length, 0, 'no reservation left in the ledger')
  t.equal(await stock.heldBy(product.id, 'retrying-user'), 0, 'the user holds nothing')
  t.equal(await stock.idempotencyRecord(product.id, key), null, 'the key is free for a retry')
  const tombstones = (await Promise.all(redis.nodes('master').map((node) => node.keys(`{product:${product.id}}:void:*`)))).flat()
  t.equal(tombstones.length, 1, 'a tombstone marks the undone order')
  const undoneId = tombstones[0]?.split(':void:')[1] ?? ''
  t.ok(await tombstoneExists(product.id, undoneId))
  t.equal(await redis.exists(pendingOrderKey(undoneId)), 0, 'no pending marker for the undone order')
  t.equal((await down.inject(`/orders/${undoneId}`)).statusCode, 404, 'the undone order was never issued')

  const metrics = (await down.inject('/metrics')).body
  t.match(metrics, /order_publish_failures_total\{type="order.placed",service="order-gateway"\} 1/)
  t.match(metrics, /order_reservations_undone_total\{service="order-gateway"\} 1/)

  // Kafka is back (an app with the real broker, the same Redis): the client's retry goes through once.
  const up = await buildTestApp(t, testConfig(topic))
  const reader = await new TopicReader(topic).start(t)
  const retried = await Promise.all([post(up, body, { 'idempotency-key': key, ...buyer }), post(up, body, { 'idempotency-key': key, ...buyer })])
  t.same(retried.map((r) => r.statusCode), [202, 202])
  const orderId = retried[0]?.json().orderId
  t.equal(retried[1]?.json().orderId, orderId, 'both retries answer the same order')
  t.not(orderId, undoneId, 'a fresh order, not the undone one')
  const after = await snapshot(product.id)
  t.equal(after.available, 8, 'two units taken once')
  t.same(after.ledger.map((e) => e.orderId), [orderId])
  t.equal(await stock.heldBy(product.id, 'retrying-user'), 2)
  const published = await reader.waitFor((r) => r.message.productId === product.id, 2, 5000)
  t.same(published.map((r) => r.key), [orderId], 'only the retried order reached Kafka')
})

t.test('cancellations are refused with 503 while Kafka is unreachable', async (t) => {
  const product = await createProduct({ stock: 10 })
  const up = await buildTestApp(t, testConfig(topic))
  const placed = await post(up, { productId: product.id, quantity: 1 })
  t.equal(placed.statusCode, 202)
  const down = await buildTestApp(t, testConfig(topic, { KAFKA_BROKERS: '127.0.0.1:9', PUBLISH_TIMEOUT_MS: '500' }), { waitForKafka: false })
  const res = await down.inject({ method: 'DELETE', url: `/orders/${placed.json().orderId}`, headers: { 'x-order-receipt': placed.json().receipt } })
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '1')
  t.equal((await snapshot(product.id)).ledger.length, 1, 'the order itself is untouched')
})
