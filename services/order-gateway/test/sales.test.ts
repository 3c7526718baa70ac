import t from 'tap'
import { newOrderId } from '@flash/common'
import { createProduct, testStack } from '@flash/common/test-support'
import { createTestTopic, testConfig, buildTestApp, insertOrder } from './helper.ts'

// GET /orders/sales — units of confirmed orders per product, for the admin's "sold" column.

const stack = testStack(t)
const topic = await createTestTopic(t)
const app = await buildTestApp(t, testConfig(topic))

t.test('counts units per product and state: sold (confirmed and paid), held, paid, expired; a product without orders 0', async (t) => {
  const a = await createProduct(stack, { stock: 50 })
  const b = await createProduct(stack, { stock: 50 })
  const quiet = await createProduct(stack, { stock: 50 })
  await insertOrder(stack, { id: newOrderId(), productId: a.id, userId: 'u1', quantity: 3, status: 'confirmed' })
  await insertOrder(stack, { id: newOrderId(), productId: a.id, userId: 'u2', quantity: 2, status: 'confirmed' })
  await insertOrder(stack, { id: newOrderId(), productId: a.id, userId: 'u3', quantity: 7, status: 'failed', reason: 'insufficient stock' })
  await insertOrder(stack, { id: newOrderId(), productId: a.id, userId: 'u4', quantity: 4, status: 'cancelled', reason: 'cancelled by customer' })
  await insertOrder(stack, { id: newOrderId(), productId: b.id, userId: null, quantity: 1, status: 'confirmed' })
  await insertOrder(stack, { id: newOrderId(), productId: b.id, userId: 'u5', quantity: 2, status: 'paid' })
  await insertOrder(stack, { id: newOrderId(), productId: b.id, userId: 'u6', quantity: 3, status: 'awaiting_payment' })
  await insertOrder(stack, { id: newOrderId(), productId: b.id, userId: 'u7', quantity: 4, status: 'expired', reason: 'not paid by the deadline' })

  const res = await app.inject(`/orders/sales?productId=${a.id}&productId=${b.id}&productId=${quiet.id}`)
  t.equal(res.statusCode, 200)
  t.same(res.json().items, [
    { productId: a.id, unitsSold: 5, unitsHeld: 0, unitsPaid: 0, unitsExpired: 0 },
    { productId: b.id, unitsSold: 3, unitsHeld: 3, unitsPaid: 2, unitsExpired: 4 },
    { productId: quiet.id, unitsSold: 0, unitsHeld: 0, unitsPaid: 0, unitsExpired: 0 }
  ])
})

t.test('bad input is a 400 naming the field', async (t) => {
  for (const query of ['', '?productId=abc', '?productId=0', '?productId=1&other=2']) {
    const res = await app.inject(`/orders/sales${query}`)
    t.equal(res.statusCode, 400, query)
    t.match(res.json().message, /querystring/)
  }
})

t.test('/orders/sales serves GET only: DELETE is 405 with Allow, not the withdrawal of an order called "sales"', async (t) => {
  for (const method of ['DELETE', 'PUT', 'OPTIONS'] as const) {
    const res = await app.inject({ method, url: '/orders/sales?productId=1' })
    t.equal(res.statusCode, 405, method)
    t.equal(res.headers.allow, 'GET, HEAD', `${method}: Allow lists what the path serves`)
    t.equal(res.json().code, 'METHOD_NOT_ALLOWED')
  }
})
