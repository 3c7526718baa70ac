import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import {
  startPaymentStack, heldOrder, openPayment, paymentRows, orderRow, waitForOrderStatus, waitForPaymentStatus,
  stripeEvent, succeeded, deliver, redisAvailable
} from './helper.ts'

// The provider's webhook: only events signed with the endpoint's secret, recent enough, are applied,
// each once whatever the deliveries, and an amount that is not the order's is flagged, never applied.

const s = await startPaymentStack('webhook')
t.teardown(s.close)

const eventsOf = async (paymentId: string): Promise<RowDataPacket[]> => {
  const [rows] = await s.stack.mysql.query<RowDataPacket[]>('SELECT * FROM payment_events WHERE payment_id = ?', [paymentId])
  return rows
}

t.test('forged, wrongly keyed, stale or unsigned events: 400 WEBHOOK_SIGNATURE_INVALID and nothing changes', async (t) => {
  const order = await heldOrder(s)
  const paymentId = await openPayment(s, order)
  const valid = stripeEvent('payment_intent.succeeded', succeeded(paymentId, order.amount, order.orderId))
  const cases: Array<[string, { body: string, signature: string }]> = [
    ['a wrong secret', stripeEvent('payment_intent.succeeded', succeeded(paymentId, order.amount, order.orderId), { secret: 'whsec_someone_else' })],
    ['a timestamp older than the tolerance', stripeEvent('payment_intent.succeeded', succeeded(paymentId, order.amount, order.orderId), { timestamp: Math.floor(Date.now() / 1000) - 600 })],
    ['a body changed after signing', { body: valid.body.replace(`"amount":${order.amount}`, '"amount":1'), signature: valid.signature }],
    ['a forged signature', { body: valid.body, signature: `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` }],
    ['no signature', { body: valid.body, signature: '' }]
  ]
  for (const [name, event] of cases) {
    const res = await deliver(s, event)
    t.equal(res.statusCode, 400, name)
    t.match(res.json(), { code: 'WEBHOOK_SIGNATURE_INVALID' }, name)
  }
  t.equal((await eventsOf(paymentId)).length, 0, 'no event was recorded')
  t.match(await paymentRows(s, order.orderId), [{ status: 'requires_payment' }], 'the payment is untouched')
  t.match(await orderRow(s, order.orderId), { status: 'awaiting_payment' }, 'the order is untouched')
})

t.test('the same event delivered twice is applied once; the second delivery answers 200 duplicate', async (t) => {
  const order = await heldOrder(s, { quantity: 2 })
  const paymentId = await openPayment(s, order)
  const event = stripeEvent('payment_intent.succeeded', succeeded(paymentId, order.amount, order.orderId))
  const [first, second] = await Promise.all([deliver(s, event), deliver(s, event)])
  t.same([first.statusCode, second.statusCode], [200, 200])
  t.same([first.json(), second.json()].map((b) => (b as { outcome: string }).outcome).sort(), ['applied', 'duplicate'])
  t.equal((await eventsOf(paymentId)).length, 1, 'one event row')
  await waitForOrderStatus(s, order.orderId, ['paid'])
  await waitForPaymentStatus(s, paymentId, ['paid'])
  const third = await deliver(s, event)
  t.match(third.json(), { received: true, outcome: 'duplicate' }, 'a later redelivery too')
})

t.test('the same event id with another body, even validly signed, is refused and changes nothing', async (t) => {
  const order = await heldOrder(s)
  const paymentId = await openPayment(s, order)
  const id = `evt_replayed_${Date.now()}`
  const declined = stripeEvent('payment_intent.payment_failed', { id: paymentId, object: 'payment_intent', amount: order.amount, currency: 'cny', status: 'requires_payment_method', last_payment_error: { message: 'Your card was declined.' } }, { id })
  t.equal((await deliver(s, declined)).statusCode, 200)
  await waitForPaymentStatus(s, paymentId, ['declined'])
  const tampered = stripeEvent('payment_intent.succeeded', succeeded(paymentId, order.amount, order.orderId), { id })
  const res = await deliver(s, tampered)
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'WEBHOOK_SIGNATURE_INVALID', message: /another body/ })
  t.match(await paymentRows(s, order.orderId), [{ status: 'declined' }], 'the payment stays declined')
  t.match(await orderRow(s, order.orderId), { status: 'awaiting_payment' })
})

t.test('events out of order: a failure after the success does not undo the payment', async (t) => {
  const order = await heldOrder(s)
  const paymentId = await openPayment(s, order)
  t.equal((await deliver(s, stripeEvent('payment_intent.succeeded', succeeded(paymentId, order.amount, order.orderId)))).statusCode, 200)
  const late = await deliver(s, stripeEvent('payment_intent.payment_failed', { id: paymentId, object: 'payment_intent', amount: order.amount, currency: 'cny', last_payment_error: { message: 'late failure' } }))
  t.match(late.json(), { received: true, outcome: 'ignored' })
  await waitForOrderStatus(s, order.orderId, ['paid'])
  const payment = await waitForPaymentStatus(s, paymentId, ['paid'])
  t.equal(payment.reason, null, 'no failure reason was written')
})

t.test('an amount or currency that is not the order\'s is flagged, never applied; the hold then expires', async (t) => {
  const order = await heldOrder(s, { quantity: 1, stock: 2, windowSeconds: 5 })
  const paymentId = await openPayment(s, order)
  const res = await deliver(s, stripeEvent('payment_intent.succeeded', succeeded(paymentId, order.amount - 1, order.orderId)))
  t.match(res.json(), { outcome: 'flagged' })
  const flagged = await waitForPaymentStatus(s, paymentId, ['flagged'])
  t.match(flagged.reason, /provider reported/)
  const other = await heldOrder(s, { quantity: 1 })
  const otherPayment = await openPayment(s, other)
  t.match((await deliver(s, stripeEvent('payment_intent.succeeded', succeeded(otherPayment, other.amount, other.orderId, 'usd')))).json(), { outcome: 'flagged' })
  await waitForOrderStatus(s, order.orderId, ['expired'], 20_000)
  t.equal(await redisAvailable(s, order.productId, 2), 2, 'the units went back on sale')
})

t.test('an event about a payment this shop never made is recorded and ignored', async (t) => {
  const res = await deliver(s, stripeEvent('payment_intent.succeeded', succeeded('pi_not_ours', 100, '01ARZ3NDEKTSV4RRFFQ69G5FAV')))
  t.same(res.json(), { received: true, outcome: 'ignored' })
  const other = await deliver(s, stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }))
  t.same(other.json(), { received: true, outcome: 'ignored' })
})
