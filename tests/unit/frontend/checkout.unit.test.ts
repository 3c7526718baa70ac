// The shop's checkout decisions, with no stack and no browser: what a held order's buyer
// sees in every state of the order and its payment, and how the checkout polls and pays.
import t from 'tap'
import { canPay, checkoutPhase, formatAmount } from '../../../frontend/src/checkout.ts'
import { createCheckout, type CheckoutApi } from '../../../frontend/src/composables/useCheckout.ts'
import { ApiError, type Order, type Payment } from '../../../frontend/src/api.ts'

const NOW = Date.parse('2026-12-03T10:00:00Z')
const held: Order = {
  orderId: '01JZ0000000000000000000000', productId: 1, productName: 'Tea', quantity: 1, userId: null, buyerName: null,
  status: 'awaiting_payment', reason: null, createdAt: '2026-12-03T09:59:00Z', updatedAt: '2026-12-03T09:59:00Z',
  payBy: '2026-12-03T10:10:00Z', amount: 1234, currency: 'cny', paymentStatus: 'unpaid',
}
const with_ = (changes: Partial<Order>): Order => ({ ...held, ...changes })

t.test('a held order is paid, declined, expiring or settled as the order and its payment say', async (t) => {
  t.equal(checkoutPhase(null, null, NOW), 'loading')
  t.equal(checkoutPhase(with_({ status: 'pending', payBy: null, amount: null }), null, NOW), 'pending')
  t.equal(checkoutPhase(held, null, NOW), 'awaiting', 'units held, nothing paid yet')
  t.equal(checkoutPhase(held, { status: 'processing' }, NOW), 'processing', 'a card was sent')
  t.equal(checkoutPhase(held, { status: 'succeeded' }, NOW), 'processing', 'the payment succeeded, the order has not followed yet')
  t.equal(checkoutPhase(with_({ paymentStatus: 'paid' }), null, NOW), 'processing')
  t.equal(checkoutPhase(held, { status: 'declined' }, NOW), 'declined', 'declined: try again')
  t.equal(checkoutPhase(with_({ paymentStatus: 'declined' }), null, NOW), 'declined', 'declined, seen after a reload')
  t.equal(checkoutPhase(with_({ paymentStatus: 'declined' }), { status: 'processing' }, NOW), 'processing',
    'a second try is processing even though the order still remembers the first decline')
  t.equal(checkoutPhase(held, null, Date.parse(held.payBy ?? '')), 'expiring', 'payBy reached on the server clock')
  t.equal(checkoutPhase(held, { status: 'declined' }, NOW + 3_600_000), 'expiring', 'no retry once the hold is over')
  t.equal(checkoutPhase(with_({ status: 'paid', paymentStatus: 'paid' }), null, NOW), 'paid')
  t.equal(checkoutPhase(with_({ status: 'paid', paymentStatus: 'flagged' }), null, NOW), 'flagged')
  t.equal(checkoutPhase(with_({ status: 'expired', paymentStatus: 'unpaid' }), null, NOW), 'expired')
  t.equal(checkoutPhase(with_({ status: 'expired', paymentStatus: 'refund_pending' }), null, NOW), 'refunding', 'a late payment is being refunded')
  t.equal(checkoutPhase(with_({ status: 'expired', paymentStatus: 'refunded' }), null, NOW), 'refunded')
  t.equal(checkoutPhase(with_({ status: 'cancelled', paymentStatus: 'refunded' }), null, NOW), 'refunded', 'a paid order withdrawn')
  t.equal(checkoutPhase(with_({ status: 'cancelled', paymentStatus: 'unpaid' }), null, NOW), 'cancelled')
  t.equal(checkoutPhase(with_({ status: 'confirmed', payBy: null, amount: 0, paymentStatus: null }), null, NOW), 'confirmed', 'free: no payment step')
  t.equal(checkoutPhase(with_({ status: 'failed' }), null, NOW), 'failed')
  t.ok(canPay('awaiting') && canPay('declined'))
  t.notOk(canPay('processing') || canPay('expiring') || canPay('paid') || canPay('expired'))
})

t.test('amounts are minor units in the order\'s currency', async (t) => {
  t.equal(formatAmount(1234, 'cny', 'en'), 'CN¥12.34')
  t.equal(formatAmount(1234, 'cny', 'zh-CN'), '¥12.34')
  t.equal(formatAmount(500, 'jpy', 'en'), '¥500', 'a currency without minor units')
  t.equal(formatAmount(1999, 'usd', 'en'), '$19.99')
  t.equal(formatAmount(5, 'x!', 'en'), '5 x!', 'an unknown code is shown as it is')
})

/** A payment provider and gateway in memory: the card decides, the order follows one read later. */
function fakeApi (order: Order) {
  const calls: string[] = []
  let current = { ...order }
  let payment: Payment | null = null
  let outcome: 'succeeds' | 'declined' | null = null
  const api: CheckoutApi = {
    now: () => NOW,
    pollMs: 5,
    async paymentConfig () { return { sandbox: true, currency: 'cny', testCards: [] } },
    async getOrder () {
      calls.push('getOrder')
      if (outcome !== null && payment !== null) {
        // the webhook lands between two reads
        payment = { ...payment, status: outcome === 'succeeds' ? 'succeeded' : 'declined' }
        current = outcome === 'succeeds' ? { ...current, status: 'paid', paymentStatus: 'paid' } : { ...current, paymentStatus: 'declined' }
        outcome = null
      }
      return { ...current }
    },
    async getPayment () { calls.push('getPayment'); return { ...(payment as Payment) } },
    async startPayment (orderId) {
      calls.push('startPayment')
      if (current.status !== 'awaiting_payment') throw new ApiError(409, 'ORDER_NOT_PAYABLE', 'not payable', undefined, undefined, { status: current.status })
      payment ??= { paymentId: 'pay_1', orderId, status: 'requires_payment', amount: 1234, currency: 'cny', payBy: current.payBy ?? null, reason: null, sandbox: true }
      return { ...payment }
    },
    async confirmSandboxPayment (_id, method) {
      calls.push(`confirm:${method}`)
      outcome = method === 'pm_card_visa' ? 'succeeds' : 'declined'
      return { paymentId: 'pay_1', status: 'processing' }
    },
  }
  return { api, calls, setOrder: (o: Partial<Order>) => { current = { ...current, ...o } } }
}

async function until (what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  if (!ok()) throw new Error(`timed out waiting for ${what}`)
}

t.test('a declined card is tried again with the same payment, then a good card pays the order; polling stops', async (t) => {
  const fake = fakeApi(held)
  const checkout = createCheckout(held.orderId, { receipt: 'r' }, fake.api)
  void checkout.start()
  await until('the order', () => checkout.phase() === 'awaiting')
  await checkout.pay('pm_card_chargeDeclined')
  t.equal(checkout.phase(), 'processing', 'processing at once after the 202')
  await until('the decline', () => checkout.phase() === 'declined')
  await checkout.pay('pm_card_visa')
  await until('paid', () => checkout.phase() === 'paid')
  t.same(fake.calls.filter((c) => c !== 'getOrder' && c !== 'getPayment'),
    ['startPayment', 'confirm:pm_card_chargeDeclined', 'startPayment', 'confirm:pm_card_visa'])
  const reads = fake.calls.length
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(fake.calls.length, reads, 'a paid order is no longer polled')
  checkout.stop()
})

t.test('a click while nothing can be paid sends nothing; a hold that ended meanwhile shows the server\'s answer', async (t) => {
  const fake = fakeApi(held)
  const checkout = createCheckout(held.orderId, {}, fake.api)
  await checkout.pay('pm_card_visa')
  t.same(fake.calls, [], 'not loaded yet: no request')
  await checkout.refresh()
  fake.setOrder({ status: 'expired' })
  await checkout.pay('pm_card_visa')
  t.equal((checkout.state.error as ApiError).code, 'ORDER_NOT_PAYABLE', 'the refusal is kept to be shown')
  await until('the refreshed order', () => checkout.phase() === 'expired')
  checkout.stop()
})

t.test('stop ends the polling of an order still held', async (t) => {
  const fake = fakeApi(held)
  const checkout = createCheckout(held.orderId, {}, fake.api)
  void checkout.start()
  await until('two reads', () => fake.calls.length >= 2)
  checkout.stop()
  await new Promise((resolve) => setTimeout(resolve, 20))
  const reads = fake.calls.length
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(fake.calls.length, reads)
})
