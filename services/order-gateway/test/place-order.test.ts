import t from 'tap'
import { ErrorCode, MessageType, isOrderId } from '@flash/common'
import { useTestStack, createTestTopic, testConfig, buildTestApp, createProduct, snapshot, TopicReader, post, stock, redis, asBuyer } from './helper.ts'

useTestStack(t)
const topic = await createTestTopic(t)
const app = await buildTestApp(t, testConfig(topic, { MAX_QUANTITY_PER_ORDER: '10' }))
const reader = await new TopicReader(topic).start(t)

t.test("the seed's body is reserved, published with its request id, and answered 202 pending", async (t) => {
  const product = await createProduct({ stock: 10 })
  const res = await post(app, { productId: product.id, quantity: 2 }, { 'x-request-id': 'seed-req-1' })
  t.equal(res.statusCode, 202)
  const body = res.json()
  t.match(body, { status: 'pending', message: String })
  t.ok(isOrderId(body.orderId), 'a ULID order id')

  const snap = await snapshot(product.id)
  t.equal(snap.available, 8, 'two units taken in Redis')
  t.same(snap.ledger.map((e) => [e.orderId, e.quantity, e.userId, e.claimed]), [[body.orderId, 2, null, false]], 'the reservation is in the ledger')

  const [received] = await reader.waitFor((r) => r.key === body.orderId)
  t.ok(received, 'order.placed reached Kafka')
  t.equal(received?.requestId, 'seed-req-1', 'header x-request-id')
  t.match(received?.message, { type: MessageType.ORDER_PLACED, version: 1, orderId: body.orderId, productId: product.id, quantity: 2, userId: null, requestId: 'seed-req-1' })

  const read = await app.inject({ url: `/orders/${body.orderId}`, headers: { 'x-order-receipt': body.receipt } })
  t.equal(read.statusCode, 200)
  t.match(read.json(), { orderId: body.orderId, productId: product.id, productName: product.name, quantity: 2, userId: null, status: 'pending', reason: null })
})

t.test('refusals carry their code and change nothing', async (t) => {
  const product = await createProduct({ stock: 3, perUserLimit: 2 })
  const archived = await createProduct({ stock: 5, status: 'archived' })
  const before = await snapshot(product.id)

  const unknown = await post(app, { productId: 999_999_999_999, quantity: 1 })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.json(), { statusCode: 404, code: ErrorCode.PRODUCT_NOT_FOUND, error: 'Not Found' })
  t.match((await post(app, { productId: archived.id, quantity: 1 })).json(), { statusCode: 404, code: ErrorCode.PRODUCT_NOT_FOUND })
  t.equal((await snapshot(archived.id)).available, 5)

  const guest = await post(app, { productId: product.id, quantity: 1 })
  t.equal(guest.statusCode, 401, 'a guest cannot buy a product with a per-user limit')
  t.equal(guest.json().code, ErrorCode.SIGN_IN_REQUIRED)

  const unlimited = await createProduct({ stock: 3 })
  const short = await post(app, { productId: unlimited.id, quantity: 4 })
  t.equal(short.statusCode, 409)
  t.match(short.json(), { code: ErrorCode.INSUFFICIENT_STOCK, available: 3 })

  const overLimit = await post(app, { productId: product.id, quantity: 3 }, asBuyer('limit-user'))
  t.equal(overLimit.statusCode, 409)
  t.match(overLimit.json(), { code: ErrorCode.PER_USER_LIMIT, remaining: 2 })

  const after = await snapshot(product.id)
  t.equal(after.available, before.available, 'stock unchanged')
  t.same(after.ledger, before.ledger, 'ledger unchanged')
  t.equal(await stock.heldBy(product.id, 'limit-user'), 0)
})

t.test('bad input is a 400 naming the field, and changes nothing', async (t) => {
  const product = await createProduct({ stock: 50 })
  const cases: Array<[string, unknown, RegExp, Record<string, string>?]> = [
    ['missing productId', { quantity: 1 }, /body must have required property 'productId'/],
    ['missing quantity', { productId: product.id }, /body must have required property 'quantity'/],
    ['zero quantity', { productId: product.id, quantity: 0 }, /body\/quantity/],
    ['negative quantity', { productId: product.id, quantity: -1 }, /body\/quantity/],
    ['fractional quantity', { productId: product.id, quantity: 1.5 }, /body\/quantity/],
    ['string quantity', { productId: product.id, quantity: '2' }, /body\/quantity/],
    ['above the per-order maximum', { productId: product.id, quantity: 11 }, /body\/quantity must be <= 10/],
    ['string productId', { productId: String(product.id), quantity: 1 }, /body\/productId/],
    ['unknown property', { productId: product.id, quantity: 1, price: 0 }, /additional property 'price'/],
    ['empty userId', { productId: product.id, quantity: 1, userId: '' }, /body\/userId is not accepted/],
    ['userId with spaces', { productId: product.id, quantity: 1, userId: 'a b' }, /body\/userId is not accepted/],
    ['userId too long', { productId: product.id, quantity: 1, userId: 'u'.repeat(65) }, /body\/userId is not accepted/],
    ['malformed JSON', '{"productId": 1, "quantity": ', /JSON|Unexpected|end/i],
    ['Idempotency-Key too long', { productId: product.id, quantity: 1 }, /headers\/idempotency-key/, { 'idempotency-key': 'k'.repeat(129) }],
    ['Idempotency-Key not printable', { productId: product.id, quantity: 1 }, /headers\/idempotency-key/, { 'idempotency-key': 'caf\u00e9' }]
  ]
  for (const [name, body, message, headers] of cases) {
    const res = await post(app, body, headers)
    t.equal(res.statusCode, 400, `${name}: 400`)
    t.match(res.json().message, message, `${name}: ${res.json().message}`)
    t.ok([ErrorCode.VALIDATION_FAILED, ErrorCode.INVALID_JSON].includes(res.json().code), `${name}: stable code`)
  }
  const big = await post(app, JSON.stringify({ productId: product.id, quantity: 1, userId: 'x'.repeat(5000) }))
  t.equal(big.statusCode, 413, 'oversized body')
  t.equal(big.json().code, ErrorCode.BODY_TOO_LARGE)

  const snap = await snapshot(product.id)
  t.equal(snap.available, 50, 'stock unchanged')
  t.equal(snap.ledger.length, 0, 'no reservation')
})

t.test('the same Idempotency-Key sent 20 times at once makes one reservation, one message, one order id', async (t) => {
  const product = await createProduct({ stock: 100 })
  const key = `idem-${product.id}-concurrent`
  const answers = await Promise.all(Array.from({ length: 20 }, () =>
    post(app, { productId: product.id, quantity: 3 }, { 'idempotency-key': key, ...asBuyer('idem-user') })))
  t.same(answers.map((a) => a.statusCode), Array(20).fill(202), 'all 20 answered 202')
  const ids = new Set(answers.map((a) => a.json().orderId))
  t.equal(ids.size, 1, 'one order id in all answers')
  const [orderId] = [...ids]

  const snap = await snapshot(product.id)
  t.equal(snap.available, 97, 'three units taken once')
  t.same(snap.ledger.map((e) => e.orderId), [orderId], 'one ledger entry')
  t.equal(await stock.heldBy(product.id, 'idem-user'), 3)
  t.same(await stock.idempotencyRecord(product.id, key), { orderId })

  const published = await reader.waitFor((r) => r.message.productId === product.id, 2, 3000)
  t.equal(published.length, 1, 'one message in Kafka')

  const later = await post(app, { productId: product.id, quantity: 3 }, { 'idempotency-key': key, ...asBuyer('idem-user') })
  t.equal(later.statusCode, 202)
  t.equal(later.json().orderId, orderId, 'a later retry gets the same order')

  const different = await post(app, { productId: product.id, quantity: 4 }, { 'idempotency-key': key, ...asBuyer('idem-user') })
  t.equal(different.statusCode, 422)
  t.equal(different.json().code, ErrorCode.IDEMPOTENCY_KEY_REUSED)
  const otherProduct = await createProduct({ stock: 5 })
  // A key is scoped to its product (the record lives on the product's shard): another product's
  // order with the same key is another request.
  const elsewhere = await post(app, { productId: otherProduct.id, quantity: 3 }, { 'idempotency-key': key, ...asBuyer('idem-user') })
  t.equal(elsewhere.statusCode, 202, 'the key used for another product is another order')
  t.not(elsewhere.json().orderId, orderId)
  t.equal((await snapshot(product.id)).available, 97, 'nothing more taken of the first product')
  t.equal((await snapshot(otherProduct.id)).available, 2, 'the other product sold its own three')
})

t.test('the per-user limit holds under concurrency', async (t) => {
  const product = await createProduct({ stock: 100, perUserLimit: 3 })
  const answers = await Promise.all(Array.from({ length: 50 }, () =>
    post(app, { productId: product.id, quantity: 1 }, asBuyer('eager-buyer'))))
  const accepted = answers.filter((a) => a.statusCode === 202)
  t.equal(accepted.length, 3, 'three orders accepted')
  t.ok(answers.filter((a) => a.statusCode === 409).every((a) => a.json().code === ErrorCode.PER_USER_LIMIT), 'the rest refused by the limit')
  t.equal(await stock.heldBy(product.id, 'eager-buyer'), 3, 'the user holds exactly 3 units')
  const snap = await snapshot(product.id)
  t.equal(snap.available, 97)
  t.equal(snap.ledger.length, 3)
  const published = await reader.waitFor((r) => r.message.productId === product.id, 3)
  t.equal(published.length, 3)
})

t.test('health, metrics and the OpenAPI document', async (t) => {
  const ready = await app.inject('/health/ready')
  t.equal(ready.statusCode, 200)
  t.same(ready.json().checks, { mysql: 'ok', redis: 'ok', kafka: 'ok' })
  const metrics = (await app.inject('/metrics')).body
  t.match(metrics, /orders_accepted_total\{service="order-gateway"\} [1-9]/)
  t.match(metrics, /orders_refused_total\{reason="insufficient_stock",service="order-gateway"\} [1-9]/)
  t.match(metrics, /order_publish_batch_size_count\{service="order-gateway"\} [1-9]/)
  const docs = (await app.inject('/docs/json')).json()
  t.ok(docs.paths['/orders'].post, 'POST /orders documented')
  t.ok(docs.paths['/orders/{id}'].delete, 'DELETE /orders/{id} documented')
})
