import t from 'tap'
import { decodeMessage, orderPaymentStatus, MessageType, SCHEMA_VERSION, ConfigError } from '@flash/common'
import { holdOf } from '../../order-processor/src/decisions.ts'
import { StripeProvider } from '../src/provider/stripe.ts'
import { WebhookSignatureError } from '../src/provider/provider.ts'
import { sandboxEvent } from '../src/payments/sandbox.ts'
import { loadPaymentConfig } from '../src/config.ts'

// The payment decisions that need no server: the hold of an order, what a buyer sees of a payment,
// the events the sandbox sends and how they verify, the messages, the configuration's refusals.

const provider = new StripeProvider({ secretKey: 'sk_test_unit', webhookSecret: 'whsec_unit_secret', apiUrl: '', toleranceSeconds: 300 })

t.test('a priced product holds its order until acceptance + window; a free one holds nothing', async (t) => {
  const order = { quantity: 3, createdAt: '2026-12-03T10:00:00.000Z' }
  t.same(holdOf({ price: 1250, paymentWindowSeconds: 600 }, order, 'cny'),
    { amount: 3750, currency: 'cny', payBy: new Date('2026-12-03T10:10:00.000Z') })
  t.equal(holdOf({ price: 0, paymentWindowSeconds: 600 }, order, 'cny'), null)
  const replayed = holdOf({ price: 1250, paymentWindowSeconds: 600 }, order, 'cny')
  t.same(replayed?.payBy, new Date('2026-12-03T10:10:00.000Z'), 'a replay computes the same deadline (from the acceptance, not the clock)')
})

t.test('what the buyer sees of an order\'s payment', async (t) => {
  t.equal(orderPaymentStatus('confirmed', null), null, 'a free order has no payment')
  t.equal(orderPaymentStatus('pending', null), null)
  t.equal(orderPaymentStatus('awaiting_payment', null), 'unpaid')
  t.equal(orderPaymentStatus('awaiting_payment', 'requires_payment'), 'unpaid')
  t.equal(orderPaymentStatus('awaiting_payment', 'processing'), 'unpaid')
  t.equal(orderPaymentStatus('awaiting_payment', 'declined'), 'declined')
  t.equal(orderPaymentStatus('awaiting_payment', 'succeeded'), 'paid', 'taken by the provider, being applied')
  t.equal(orderPaymentStatus('paid', 'paid'), 'paid')
  t.equal(orderPaymentStatus('expired', 'refund_pending'), 'refund_pending')
  t.equal(orderPaymentStatus('cancelled', 'refunded'), 'refunded')
  t.equal(orderPaymentStatus('expired', 'flagged'), 'flagged')
  t.equal(orderPaymentStatus('expired', null), 'unpaid')
})

t.test('the sandbox\'s events are Stripe\'s shape, and verify with the endpoint\'s secret only', async (t) => {
  const payment = { id: 'pi_123', orderId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', amount: 500, currency: 'cny' }
  const body = sandboxEvent(payment, 'succeeds', Date.UTC(2026, 11, 3))
  const event = provider.verify(Buffer.from(body), provider.sign(body))
  t.match(event, { providerType: 'payment_intent.succeeded', kind: 'succeeded', paymentId: 'pi_123', amount: 500, currency: 'cny', failure: null })
  t.match(event.id, /^evt_/)
  const declinedBody = sandboxEvent(payment, 'declined', Date.now())
  t.match(provider.verify(Buffer.from(declinedBody), provider.sign(declinedBody)),
    { kind: 'failed', providerType: 'payment_intent.payment_failed', failure: 'Your card was declined.' }, 'a declined card is a payment_failed event')
  const other = new StripeProvider({ secretKey: 'sk_test_unit', webhookSecret: 'whsec_other', apiUrl: '', toleranceSeconds: 300 })
  t.throws(() => provider.verify(Buffer.from(body), other.sign(body)), WebhookSignatureError, 'another secret')
  t.throws(() => provider.verify(Buffer.from(body), provider.sign(body, Math.floor(Date.now() / 1000) - 301)), WebhookSignatureError, 'older than the tolerance')
  t.throws(() => provider.verify(Buffer.from(body.replace('500', '5')), provider.sign(body)), WebhookSignatureError, 'a body changed after signing')
  t.throws(() => provider.verify(Buffer.from(body), undefined), WebhookSignatureError, 'no signature')
})

t.test('a refund event names its payment through the charge', async (t) => {
  const body = JSON.stringify({ id: 'evt_r', object: 'event', type: 'charge.refunded', data: { object: { id: 'ch_1', object: 'charge', payment_intent: 'pi_9', amount: 700, currency: 'cny' } } })
  t.match(provider.verify(Buffer.from(body), provider.sign(body)), { kind: 'refunded', paymentId: 'pi_9' })
})

t.test('order.paid and order.expire-due decode as strictly as the other messages', async (t) => {
  const paid = { type: MessageType.ORDER_PAID, version: SCHEMA_VERSION, orderId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', productId: 7, paymentId: 'pi_1', amount: 100, currency: 'cny', requestId: 'r', paidAt: '2026-12-03T10:00:00.000Z' }
  t.match(decodeMessage(JSON.stringify(paid)), { ok: true })
  t.match(decodeMessage(JSON.stringify({ ...paid, currency: 'CNY' })), { ok: false, reason: /currency/ })
  t.match(decodeMessage(JSON.stringify({ ...paid, amount: -1 })), { ok: false, reason: /amount/ })
  const due = { type: MessageType.ORDER_EXPIRE_DUE, version: SCHEMA_VERSION, orderId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', productId: 7, requestId: 'r', payBy: '2026-12-03T10:00:00.000Z' }
  t.match(decodeMessage(JSON.stringify(due)), { ok: true })
  t.match(decodeMessage(JSON.stringify({ ...due, extra: 1 })), { ok: false })
})

t.test('the sandbox is refused with a live key; a bad key or secret names its variable', async (t) => {
  t.throws(() => loadPaymentConfig({ PAYMENTS_SANDBOX: '1', STRIPE_SECRET_KEY: 'sk_live_abc' }), ConfigError)
  t.equal(loadPaymentConfig({ PAYMENTS_SANDBOX: '0', STRIPE_SECRET_KEY: 'sk_live_abc' }).PAYMENTS_SANDBOX, false, 'a live key without the sandbox is fine')
  t.throws(() => loadPaymentConfig({ STRIPE_SECRET_KEY: 'pk_test_abc' }), /STRIPE_SECRET_KEY/)
  t.throws(() => loadPaymentConfig({ STRIPE_WEBHOOK_SECRET: 'secret' }), /STRIPE_WEBHOOK_SECRET/)
  t.throws(() => loadPaymentConfig({ STRIPE_API_URL: 'ftp://x' }), /STRIPE_API_URL/)
})
