import t from 'tap'
import {
  startPaymentStack, heldOrder, orderOf, openPayment, paymentRows, orderRow, waitForOrderStatus, waitForPaymentStatus,
  asBuyer, createProduct, redisAvailable
} from './helper.ts'
import { sqlStock } from '../../order-processor/test/helper.ts'

// A held order is paid through the provider (stripe-mock) with the sandbox's test cards, end to end:
// gateway → processor (hold) → payment-service → its own webhook → Kafka → processor (paid).

const s = await startPaymentStack('payments')
t.teardown(s.close)

t.test('a priced order is held: awaiting_payment with amount and payBy, its units off sale in MySQL and Redis', async (t) => {
  const product = await createProduct(s.stack, { stock: 10, price: 1250, paymentWindowSeconds: 120 })
  const before = Date.now()
  const order = await orderOf(s, product.id, 3, 'holder')
  const row = await orderRow(s, order.orderId)
  t.match(row, { status: 'awaiting_payment', amount: 3750, currency: 'cny', quantity: 3, user_id: 'holder' })
  const payBy = (row?.pay_by as Date).getTime()
  t.ok(payBy >= before + 119_000 && payBy <= Date.now() + 120_000, 'payBy is the acceptance plus the product\'s window')
  t.equal(await sqlStock(s.stack, product.id), 7, 'MySQL stock took the held units')
  t.equal(await redisAvailable(s, product.id, 7), 7, 'Redis stock too')
  const read = await s.gateway.inject({ url: `/orders/${order.orderId}`, headers: asBuyer('holder') })
  t.match(read.json(), { status: 'awaiting_payment', amount: 3750, currency: 'cny', payBy: new Date(payBy).toISOString(), paymentStatus: 'unpaid' })
})

t.test('a free order is confirmed at once and has nothing to pay', async (t) => {
  const product = await createProduct(s.stack, { stock: 5 })
  const order = await orderOf(s, product.id, 1)
  t.match(await orderRow(s, order.orderId), { status: 'confirmed', amount: null, pay_by: null })
  const res = await s.payments.inject({ method: 'POST', url: '/payments', headers: { 'x-order-receipt': order.receipt }, payload: { orderId: order.orderId } })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { code: 'ORDER_NOT_PAYABLE', status: 'confirmed' })
  t.equal((await paymentRows(s, order.orderId)).length, 0, 'no payment was made')
})

t.test('opening a payment: 201 with the provider\'s PaymentIntent, the same one again with 200; nobody else sees it', async (t) => {
  const order = await heldOrder(s, { quantity: 2, price: 999, buyer: 'opener' })
  const first = await s.payments.inject({ method: 'POST', url: '/payments', headers: asBuyer('opener'), payload: { orderId: order.orderId } })
  t.equal(first.statusCode, 201)
  const payment = first.json() as { paymentId: string, clientSecret: string }
  t.match(payment, { orderId: order.orderId, status: 'requires_payment', amount: 1998, currency: 'cny', sandbox: true })
  t.match(payment.paymentId, /^pi_/, 'a PaymentIntent id from the provider')
  t.ok(payment.clientSecret.length > 0, 'the client secret for the provider\'s own confirmation')
  const again = await s.payments.inject({ method: 'POST', url: '/payments', headers: asBuyer('opener'), payload: { orderId: order.orderId } })
  t.equal(again.statusCode, 200)
  t.equal(again.json().paymentId, payment.paymentId, 'the open payment, not a second one')
  t.match(await paymentRows(s, order.orderId), [{ id: payment.paymentId, status: 'requires_payment', amount: 1998, provider: 'stripe' }])

  for (const [who, headers] of [['another buyer', asBuyer('someone-else')], ['a guest', {}]] as const) {
    const res = await s.payments.inject({ method: 'POST', url: '/payments', headers, payload: { orderId: order.orderId } })
    t.equal(res.statusCode, 404, `${who} is told the order does not exist`)
    const read = await s.payments.inject({ url: `/payments/${payment.paymentId}`, headers })
    t.equal(read.statusCode, 404, `${who} cannot read the payment`)
    t.equal(read.json().code, 'PAYMENT_NOT_FOUND')
  }
  t.equal((await paymentRows(s, order.orderId)).length, 1, 'still one payment')
})

t.test('bad input is a 400 naming the field and changes nothing', async (t) => {
  const order = await heldOrder(s, { buyer: 'bad-input' })
  for (const [payload, field] of [[{}, 'orderId'], [{ orderId: 'nope' }, 'body/orderId'], [{ orderId: order.orderId, amount: 1 }, 'amount']] as const) {
    const res = await s.payments.inject({ method: 'POST', url: '/payments', headers: asBuyer('bad-input'), payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.match(res.json(), { code: 'VALIDATION_FAILED', message: new RegExp(field) })
  }
  const confirm = await s.payments.inject({ method: 'POST', url: '/payments/pi_unknown/sandbox-confirm', headers: asBuyer('bad-input'), payload: { paymentMethod: 'pm_card_amex' } })
  t.equal(confirm.statusCode, 400)
  t.match(confirm.json().message, /paymentMethod/)
  t.equal((await paymentRows(s, order.orderId)).length, 0, 'no payment was made')
})

t.test('paying with the sandbox\'s succeeding card: the order is paid and its units stay sold', async (t) => {
  const order = await heldOrder(s, { quantity: 2, stock: 4, buyer: 'payer' })
  const paymentId = await openPayment(s, order, asBuyer('payer'))
  const res = await s.payments.inject({ method: 'POST', url: `/payments/${paymentId}/sandbox-confirm`, headers: asBuyer('payer'), payload: { paymentMethod: 'pm_card_visa' } })
  t.equal(res.statusCode, 202)
  const row = await waitForOrderStatus(s, order.orderId, ['paid'])
  t.equal(row.payment_id, paymentId, 'the order names the payment that paid it')
  await waitForPaymentStatus(s, paymentId, ['paid'])
  t.equal(await sqlStock(s.stack, order.productId), 2, 'MySQL stock: the paid units stay sold')
  t.equal(await redisAvailable(s, order.productId, 2), 2, 'Redis too')
  const read = await s.gateway.inject({ url: `/orders/${order.orderId}`, headers: asBuyer('payer') })
  t.match(read.json(), { status: 'paid', paymentStatus: 'paid' })
  const sales = await s.gateway.inject({ url: `/orders/sales?productId=${order.productId}` })
  t.same(sales.json().items, [{ productId: order.productId, unitsSold: 2, unitsHeld: 0, unitsPaid: 2, unitsExpired: 0 }])
})

t.test('a declined card leaves the hold; paying again while it lasts succeeds', async (t) => {
  const order = await heldOrder(s, { buyer: 'decliner' })
  const paymentId = await openPayment(s, order, asBuyer('decliner'))
  await s.payments.inject({ method: 'POST', url: `/payments/${paymentId}/sandbox-confirm`, headers: asBuyer('decliner'), payload: { paymentMethod: 'pm_card_chargeDeclined' } })
  const declined = await waitForPaymentStatus(s, paymentId, ['declined'])
  t.match(declined.reason, /declined/)
  t.match(await orderRow(s, order.orderId), { status: 'awaiting_payment' }, 'the order still waits for payment')
  t.match((await s.gateway.inject({ url: `/orders/${order.orderId}`, headers: asBuyer('decliner') })).json(), { paymentStatus: 'declined' })
  t.equal(await openPayment(s, order, asBuyer('decliner')), paymentId, 'the declined payment is the one to try again')
  await s.payments.inject({ method: 'POST', url: `/payments/${paymentId}/sandbox-confirm`, headers: asBuyer('decliner'), payload: { paymentMethod: 'pm_card_visa' } })
  await waitForOrderStatus(s, order.orderId, ['paid'])
  t.equal((await paymentRows(s, order.orderId)).length, 1, 'one payment throughout')
})

t.test('a guest pays with the receipt of its order', async (t) => {
  const order = await heldOrder(s)
  const paymentId = await openPayment(s, order)
  const res = await s.payments.inject({ method: 'POST', url: `/payments/${paymentId}/sandbox-confirm`, headers: { 'x-order-receipt': order.receipt }, payload: { paymentMethod: 'pm_card_visa' } })
  t.equal(res.statusCode, 202)
  await waitForOrderStatus(s, order.orderId, ['paid'])
  const wrongReceipt = await s.payments.inject({ url: `/payments/${paymentId}`, headers: { 'x-order-receipt': 'A'.repeat(43) } })
  t.equal(wrongReceipt.statusCode, 404, 'another receipt does not open it')
})

t.test('withdrawing a paid order refunds it through the provider and puts its units back on sale', async (t) => {
  const order = await heldOrder(s, { quantity: 2, stock: 5, buyer: 'withdrawer' })
  const paymentId = await openPayment(s, order, asBuyer('withdrawer'))
  await s.payments.inject({ method: 'POST', url: `/payments/${paymentId}/sandbox-confirm`, headers: asBuyer('withdrawer'), payload: { paymentMethod: 'pm_card_visa' } })
  await waitForOrderStatus(s, order.orderId, ['paid'])
  const res = await s.gateway.inject({ method: 'DELETE', url: `/orders/${order.orderId}`, headers: asBuyer('withdrawer') })
  t.equal(res.statusCode, 202)
  await waitForOrderStatus(s, order.orderId, ['cancelled'])
  const refunded = await waitForPaymentStatus(s, paymentId, ['refunded'])
  t.match(refunded.refund_id, /^re_/, 'the provider\'s refund')
  t.match(refunded.reason, /withdrawn/)
  t.equal(await sqlStock(s.stack, order.productId), 5, 'MySQL stock has the units back')
  t.equal(await redisAvailable(s, order.productId, 5), 5, 'Redis too')
  t.match((await s.gateway.inject({ url: `/orders/${order.orderId}`, headers: asBuyer('withdrawer') })).json(), { status: 'cancelled', paymentStatus: 'refunded' })
})

t.test('withdrawing a held order before paying puts its units back, and it can no longer be paid', async (t) => {
  const order = await heldOrder(s, { quantity: 1, stock: 3, buyer: 'changed-mind' })
  await s.gateway.inject({ method: 'DELETE', url: `/orders/${order.orderId}`, headers: asBuyer('changed-mind') })
  await waitForOrderStatus(s, order.orderId, ['cancelled'])
  t.equal(await sqlStock(s.stack, order.productId), 3)
  t.equal(await redisAvailable(s, order.productId, 3), 3, 'Redis too')
  const res = await s.payments.inject({ method: 'POST', url: '/payments', headers: asBuyer('changed-mind'), payload: { orderId: order.orderId } })
  t.match(res.json(), { statusCode: 409, code: 'ORDER_NOT_PAYABLE', status: 'cancelled' })
})

t.test('GET /payments/config tells the shop it runs in sandbox mode and which test cards exist', async (t) => {
  const res = await s.payments.inject({ url: '/payments/config' })
  t.match(res.json(), { sandbox: true, currency: 'cny', testCards: [{ paymentMethod: 'pm_card_visa', outcome: 'succeeds' }, { paymentMethod: 'pm_card_chargeDeclined', outcome: 'declined' }] })
})
