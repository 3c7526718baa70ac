import t, { type Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { productKeys, sleep } from '@flash/common'
import {
  startPaymentStack, heldOrder, orderOf, openPayment, orderRow, waitForOrderStatus, waitForPaymentStatus,
  stripeEvent, succeeded, deliver, asBuyer, createProduct, redisAvailable
} from './helper.ts'
import { sqlStock, startProcessor } from '../../order-processor/test/helper.ts'

// Every hold ends: at payBy unpaid units go back on sale exactly once, whatever was stopped; a payment
// and its expiry race to exactly one outcome; a payment too late is refunded once and takes nothing.

const s = await startPaymentStack('expiry')
t.teardown(s.close)

const conservation = async (t: Test, productId: number, putOnSale: number): Promise<void> => {
  const [rows] = await s.stack.mysql.query<RowDataPacket[]>(
    'SELECT status, COALESCE(SUM(quantity), 0) AS units FROM orders WHERE product_id = ? GROUP BY status', [productId])
  const units = (status: string): number => Number(rows.find((r) => r.status === status)?.units ?? 0)
  const mysql = await sqlStock(s.stack, productId)
  const redis = await redisAvailable(s, productId, mysql)
  t.equal(mysql + units('awaiting_payment') + units('paid') + units('confirmed'), putOnSale, 'MySQL: available + held + paid = units put on sale', { rows, mysql })
  t.equal(redis, mysql, 'Redis available = MySQL available')
}

t.test('an unpaid hold expires at payBy: units back on sale once, the buyer\'s count freed, the next buyer gets them', async (t) => {
  const product = await createProduct(s.stack, { stock: 1, price: 500, paymentWindowSeconds: 2, perUserLimit: 1 })
  const first = await orderOf(s, product.id, 1, 'slow-payer')
  const refused = await s.gateway.inject({ method: 'POST', url: '/orders', headers: asBuyer('next-buyer'), payload: { productId: product.id, quantity: 1 } })
  t.equal(refused.statusCode, 409, 'sold out while held')
  t.equal(await s.stack.redis.hget(productKeys(product.id).users, 'slow-payer'), '1', 'the held unit counts toward the buyer\'s limit')
  const expired = await waitForOrderStatus(s, first.orderId, ['expired'], 15_000)
  const lag = (expired.updated_at as Date).getTime() - first.payBy.getTime()
  t.ok(lag >= 0 && lag < 2000, `expired ${lag} ms after payBy (bound 2 s)`)
  t.match(expired.reason, /not paid/)
  t.equal(await redisAvailable(s, product.id, 1), 1, 'the unit is back on sale in Redis')
  t.equal(await s.stack.redis.hget(productKeys(product.id).users, 'slow-payer'), null, 'an expired unit no longer counts toward the limit')
  t.equal(await s.stack.redis.exists(`${productKeys(product.id).returnedPrefix}${first.orderId}`), 1, 'the return is marked: it happens once')
  const next = await orderOf(s, product.id, 1, 'next-buyer')
  t.match(await orderRow(s, next.orderId), { status: 'awaiting_payment' }, 'the unit was sold again')
  await conservation(t, product.id, 1)
})

t.test('a payment after its order expired is refunded once through the provider and takes no unit', async (t) => {
  const order = await heldOrder(s, { stock: 3, windowSeconds: 3 })
  const id = await openPayment(s, order)
  await waitForOrderStatus(s, order.orderId, ['expired'], 15_000)
  const late = await openPayment(s, order).then(() => 'opened', (e: Error) => e.message)
  t.match(late, /ORDER_NOT_PAYABLE/, 'an expired order cannot be paid any more')
  t.equal((await deliver(s, stripeEvent('payment_intent.succeeded', succeeded(id, order.amount, order.orderId)))).statusCode, 200)
  const refunded = await waitForPaymentStatus(s, id, ['refunded'])
  t.match(refunded.reason, /expired/)
  t.match(refunded.refund_id, /^re_/)
  await s.payments.settlement.settle()
  const again = await waitForPaymentStatus(s, id, ['refunded'])
  t.equal(again.refund_id, refunded.refund_id, 'settling again refunds nothing more')
  t.match(await orderRow(s, order.orderId), { status: 'expired', payment_id: null }, 'the order stays expired')
  const read = await s.gateway.inject({ url: `/orders/${order.orderId}`, headers: { 'x-order-receipt': order.receipt } })
  t.match(read.json(), { status: 'expired', paymentStatus: 'refunded' }, 'and the order says its payment was refunded')
  await conservation(t, order.productId, 3)
})

t.test('payments arriving around the deadline: each order ends paid (payment kept) or expired (payment refunded), never both', async (t) => {
  const product = await createProduct(s.stack, { stock: 30, price: 700, paymentWindowSeconds: 8 })
  const orders = await Promise.all(Array.from({ length: 24 }, async () => await orderOf(s, product.id, 1)))
  const payments = await Promise.all(orders.map((o) => openPayment(s, o)))
  // Each success lands between 400 ms before and 400 ms after its order's deadline.
  await Promise.all(orders.map(async (o, i) => {
    const at = o.payBy.getTime() - 400 + Math.round((800 * i) / (orders.length - 1))
    await sleep(Math.max(0, at - Date.now()))
    const res = await deliver(s, stripeEvent('payment_intent.succeeded', succeeded(payments[i] as string, o.amount, o.orderId)))
    if (res.statusCode !== 200) throw new Error(`webhook answered ${res.statusCode}`)
  }))
  const outcomes = await Promise.all(orders.map(async (o, i) => {
    const order = await waitForOrderStatus(s, o.orderId, ['paid', 'expired'], 20_000)
    const payment = await waitForPaymentStatus(s, payments[i] as string, ['paid', 'refunded'], 20_000)
    return { order: String(order.status), payment: String(payment.status), paidBy: order.payment_id }
  }))
  const mismatched = outcomes.filter((o) => !((o.order === 'paid' && o.payment === 'paid') || (o.order === 'expired' && o.payment === 'refunded')))
  t.same(mismatched, [], 'paid ⇔ payment kept, expired ⇔ payment refunded')
  t.comment(`${outcomes.filter((o) => o.order === 'paid').length} paid, ${outcomes.filter((o) => o.order === 'expired').length} expired`)
  await conservation(t, product.id, 30)
})

// With one MySQL, every processor's scan (make local's too) announces every overdue hold: several
// announcements of one expiry, and processors stopped and started across the deadline, still return
// each hold's units once. (The fault suite kills the only processor across a deadline.)
t.test('several processors, stopped across the deadline and restarted: every hold ends once', async (t) => {
  const second = await startProcessor(s.stack, { PAYMENT_EXPIRY_SCAN_MS: 100 })
  const product = await createProduct(s.stack, { stock: 10, price: 300, paymentWindowSeconds: 6 })
  const orders = await Promise.all(Array.from({ length: 6 }, async () => await orderOf(s, product.id, 1)))
  await second.close()
  await s.processor.close()
  await sleep(Math.max(0, Math.max(...orders.map((o) => o.payBy.getTime())) + 500 - Date.now()))
  const one = await startProcessor(s.stack, { PAYMENT_EXPIRY_SCAN_MS: 100 })
  const two = await startProcessor(s.stack, { PAYMENT_EXPIRY_SCAN_MS: 100 })
  s.processor = one
  t.teardown(() => two.close())
  for (const o of orders) await waitForOrderStatus(s, o.orderId, ['expired'], 20_000)
  await conservation(t, product.id, 10)
  t.equal(await sqlStock(s.stack, product.id), 10, 'each expiry returned its unit exactly once')
})
