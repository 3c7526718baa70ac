import t from 'tap'
import { ErrorCode, MessageType, newOrderId } from '@flash/common'
import { useTestStack, createTestTopic, testConfig, buildTestApp, createProduct, insertOrder, snapshot, TopicReader, post, asBuyer, asAdmin } from './helper.ts'

useTestStack(t)
const topic = await createTestTopic(t)
const app = await buildTestApp(t, testConfig(topic))
const reader = await new TopicReader(topic).start(t)

t.test('GET /orders/:id: the final state from MySQL, pending before, 404 never issued, 400 malformed', async (t) => {
  const product = await createProduct({ stock: 10 })
  const confirmed = newOrderId()
  await insertOrder({ id: confirmed, productId: product.id, userId: 'reader', quantity: 2, status: 'confirmed' })
  const res = await app.inject({ url: `/orders/${confirmed}`, headers: asBuyer('reader') })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { orderId: confirmed, productId: product.id, productName: product.name, quantity: 2, userId: 'reader', status: 'confirmed', reason: null })
  t.ok(!Number.isNaN(Date.parse(res.json().createdAt)) && !Number.isNaN(Date.parse(res.json().updatedAt)))

  const failed = newOrderId()
  await insertOrder({ id: failed, productId: product.id, userId: null, quantity: 1, status: 'failed', reason: 'product archived' })
  t.match((await app.inject({ url: `/orders/${failed}`, headers: asAdmin })).json(), { status: 'failed', reason: 'product archived' })

  const placed = await post(app, { productId: product.id, quantity: 1 }, asBuyer('reader'))
  t.equal(placed.statusCode, 202)
  t.match((await app.inject({ url: `/orders/${placed.json().orderId}`, headers: asBuyer('reader') })).json(), { status: 'pending', productName: product.name, userId: 'reader' })
  // Once the processor has written the order, MySQL's answer wins over the pending marker.
  await insertOrder({ id: placed.json().orderId, productId: product.id, userId: 'reader', quantity: 1, status: 'confirmed' })
  t.match((await app.inject({ url: `/orders/${placed.json().orderId}`, headers: asBuyer('reader') })).json(), { status: 'confirmed' })

  const never = await app.inject({ url: `/orders/${newOrderId()}`, headers: asAdmin })
  t.equal(never.statusCode, 404)
  t.equal(never.json().code, ErrorCode.ORDER_NOT_FOUND)
  const malformed = await app.inject('/orders/not-an-order-id')
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json().message, /params\/id/)
})

t.test('GET /orders lists newest first, paginates, filters, and names the product', async (t) => {
  const a = await createProduct({ stock: 10 })
  const b = await createProduct({ stock: 10 })
  const user = `lister-${a.id}`
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const id = newOrderId()
    ids.push(id)
    await insertOrder({ id, productId: i < 3 ? a.id : b.id, userId: user, quantity: 1, status: i === 4 ? 'cancelled' : 'confirmed' })
  }
  const all = await app.inject({ url: `/orders?userId=${user}`, headers: asAdmin })
  t.equal(all.statusCode, 200)
  t.same(all.json().items.map((o: { orderId: string }) => o.orderId), [...ids].reverse(), 'newest first')
  t.match(all.json(), { page: 1, pageSize: 20, total: 5 })

  const page2 = (await app.inject({ url: `/orders?userId=${user}&page=2&pageSize=2`, headers: asAdmin })).json()
  t.same(page2.items.map((o: { orderId: string }) => o.orderId), [ids[2], ids[1]])
  t.match(page2, { page: 2, pageSize: 2, total: 5 })

  const ofB = (await app.inject({ url: `/orders?productId=${b.id}`, headers: asAdmin })).json()
  t.equal(ofB.total, 2)
  t.ok(ofB.items.every((o: { productName: string }) => o.productName === b.name), 'product name included')
  const cancelled = (await app.inject({ url: `/orders?userId=${user}&status=cancelled`, headers: asAdmin })).json()
  t.same(cancelled.items.map((o: { orderId: string }) => o.orderId), [ids[4]])

  for (const bad of ['pageSize=101', 'page=0', 'status=pending', 'productId=abc', 'foo=1']) {
    t.equal((await app.inject({ url: `/orders?${bad}`, headers: asAdmin })).statusCode, 400, `${bad}: 400`)
  }
})

t.test('DELETE /orders/:id asks the processor to cancel a confirmed or pending order, once it exists', async (t) => {
  const product = await createProduct({ stock: 10 })
  const confirmed = newOrderId()
  await insertOrder({ id: confirmed, productId: product.id, userId: 'canceller', quantity: 2, status: 'confirmed' })
  const res = await app.inject({ method: 'DELETE', url: `/orders/${confirmed}`, headers: { 'x-request-id': 'cancel-req-1', ...asBuyer('canceller') } })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { orderId: confirmed, status: 'cancel-requested', message: 'cancellation requested' })
  const [message] = await reader.waitFor((r) => r.key === confirmed)
  t.match(message, { requestId: 'cancel-req-1', message: { type: MessageType.ORDER_CANCEL_REQUESTED, version: 1, orderId: confirmed, productId: product.id, requestId: 'cancel-req-1' } })

  // Not in MySQL yet: the cancellation follows its order on the same partition.
  const placed = (await post(app, { productId: product.id, quantity: 1 })).json()
  t.equal((await app.inject({ method: 'DELETE', url: `/orders/${placed.orderId}`, headers: { 'x-order-receipt': placed.receipt } })).statusCode, 202)
  const both = await reader.waitFor((r) => r.key === placed.orderId, 2)
  t.same(both.map((r) => r.message.type), [MessageType.ORDER_PLACED, MessageType.ORDER_CANCEL_REQUESTED], 'order first, then its cancellation')
  t.equal(both[0]?.partition, both[1]?.partition, 'one partition')

  for (const status of ['cancelled', 'failed'] as const) {
    const id = newOrderId()
    await insertOrder({ id, productId: product.id, userId: null, quantity: 1, status })
    const refused = await app.inject({ method: 'DELETE', url: `/orders/${id}`, headers: asAdmin })
    t.equal(refused.statusCode, 409, `${status}: 409`)
    t.equal(refused.json().code, ErrorCode.ORDER_NOT_CANCELLABLE)
    t.equal((await reader.waitFor((r) => r.key === id, 1, 1000)).length, 0, `${status}: nothing published`)
  }
  const unknown = await app.inject({ method: 'DELETE', url: `/orders/${newOrderId()}`, headers: asAdmin })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, ErrorCode.ORDER_NOT_FOUND)
  t.equal((await app.inject({ method: 'DELETE', url: '/orders/123' })).statusCode, 400)
  t.equal((await snapshot(product.id)).available, 9, 'the gateway itself returns no units: the processor does')
})
