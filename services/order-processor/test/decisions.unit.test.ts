import t from 'tap'
import { MessageType, SCHEMA_VERSION, type OrderPlaced } from '@flash/common'
import {
  FailureReason, decideChange, holdOf, placedFailure, reasonOf, unprocessableReason, type OrderChange
} from '../src/decisions.ts'

// The processor's decisions without a server: which new orders fail before taking stock, the hold of
// a priced order, and what a withdrawal, a payment or a deadline does to an order in each state
// (docs/ARCHITECTURE.md §4 step 5, §8). The stack suites (processor, retry, crash, holds-property)
// prove that the batch writes these answers.

const NOW = Date.parse('2026-12-03T10:00:00.000Z')
const orderId = '01JF0000000000000000000000'
const at = new Date(NOW).toISOString()
const base = { version: SCHEMA_VERSION, orderId, productId: 7, requestId: '' } as const
const paid = (paymentId = 'pi_1', amount = 2500): OrderChange =>
  ({ ...base, type: MessageType.ORDER_PAID, paymentId, amount, currency: 'cny', paidAt: at })
const expireDue: OrderChange = { ...base, type: MessageType.ORDER_EXPIRE_DUE, payBy: at }
const cancel: OrderChange = { ...base, type: MessageType.ORDER_CANCEL_REQUESTED, requestedAt: at }

type State = 'confirmed' | 'awaiting_payment' | 'paid' | 'expired' | 'cancelled' | 'failed'
const order = (status: State, overrides: { payBy?: Date | null, paymentId?: string | null, amount?: number | null } = {}) => ({
  status,
  amount: overrides.amount === undefined ? 2500 : overrides.amount,
  currency: 'cny',
  payBy: overrides.payBy === undefined ? new Date(NOW - 1) : overrides.payBy,
  paymentId: overrides.paymentId ?? null
})

t.test('a new order fails before taking stock when its product is gone or archived, or its reservation was released', async (t) => {
  const active = { status: 'active' as const }
  t.equal(placedFailure(undefined, 'live'), FailureReason.PRODUCT_NOT_FOUND)
  t.equal(placedFailure({ status: 'archived' }, 'live'), FailureReason.PRODUCT_ARCHIVED)
  t.equal(placedFailure({ status: 'archived' }, 'void'), FailureReason.PRODUCT_ARCHIVED, 'the product decides first')
  t.equal(placedFailure(active, 'void'), FailureReason.RESERVATION_RELEASED, 'released units are back on sale: never sold twice')
  t.equal(placedFailure(active, 'live'), null)
  t.equal(placedFailure(active, 'unknown'), null, 'a reservation Redis no longer knows (a replay) may still take stock')
  t.equal(placedFailure(active, undefined), null)
})

t.test('a priced product holds its order until acceptance + window; a free one is confirmed at once', async (t) => {
  const placed = { quantity: 2, createdAt: '2026-12-03T10:00:00.000Z' }
  t.same(holdOf({ price: 1250, paymentWindowSeconds: 600 }, placed, 'cny'),
    { amount: 2500, currency: 'cny', payBy: new Date('2026-12-03T10:10:00.000Z') })
  t.equal(holdOf({ price: 0, paymentWindowSeconds: 600 }, placed, 'cny'), null)
})

t.test('a payment pays only an unpaid hold of its amount; any other goes back to the payer', async (t) => {
  t.same(decideChange(order('awaiting_payment'), paid(), NOW), { next: 'paid', returnUnits: false, counted: 'paid' })
  t.same(decideChange(order('awaiting_payment', { payBy: new Date(NOW - 60_000) }), paid(), NOW).next, 'paid',
    'a payment that arrives before the deadline message wins, even after payBy: the partition decides')
  t.same(decideChange(order('awaiting_payment'), paid('pi_1', 100), NOW), { next: null, returnUnits: false, counted: 'latePayments' }, 'not the order\'s amount')
  for (const status of ['expired', 'cancelled', 'confirmed', 'failed'] as const) {
    t.same(decideChange(order(status), paid(), NOW), { next: null, returnUnits: false, counted: 'latePayments' }, `${status}: refunded`)
  }
  t.same(decideChange(order('paid', { paymentId: 'pi_other' }), paid('pi_1'), NOW).counted, 'latePayments', 'a second payment of a paid order')
  t.same(decideChange(order('paid', { paymentId: 'pi_1' }), paid('pi_1'), NOW), { next: null, returnUnits: false, counted: null }, 'the same payment again changes nothing')
  t.same(decideChange(null, paid(), NOW).counted, 'latePayments', 'an order MySQL does not have')
})

t.test('a deadline expires only an unpaid hold that is due; an expiry already written is returned again', async (t) => {
  t.same(decideChange(order('awaiting_payment', { payBy: new Date(NOW) }), expireDue, NOW), { next: 'expired', returnUnits: true, counted: 'expired' })
  t.same(decideChange(order('awaiting_payment', { payBy: new Date(NOW + 1) }), expireDue, NOW), { next: null, returnUnits: false, counted: null },
    'not due yet (a clock ahead elsewhere): nothing')
  t.same(decideChange(order('paid'), expireDue, NOW), { next: null, returnUnits: false, counted: null }, 'paid first: the deadline changes nothing')
  t.same(decideChange(order('expired'), expireDue, NOW), { next: null, returnUnits: true, counted: null },
    'expired before a crash: the Redis return is emitted again (marked there, so applied once)')
  for (const status of ['cancelled', 'confirmed', 'failed'] as const) {
    t.same(decideChange(order(status), expireDue, NOW), { next: null, returnUnits: false, counted: null }, status)
  }
  t.same(decideChange(null, expireDue, NOW), { next: null, returnUnits: false, counted: null })
})

t.test('a withdrawal takes back a confirmed, held or paid order; a final one only has its return emitted again', async (t) => {
  for (const status of ['confirmed', 'awaiting_payment', 'paid'] as const) {
    t.same(decideChange(order(status), cancel, NOW), { next: 'cancelled', returnUnits: true, counted: 'cancelled' }, status)
  }
  for (const status of ['cancelled', 'expired'] as const) {
    t.same(decideChange(order(status), cancel, NOW), { next: null, returnUnits: true, counted: 'cancelIgnored' }, status)
  }
  t.same(decideChange(order('failed'), cancel, NOW), { next: null, returnUnits: false, counted: 'cancelIgnored' }, 'a failed order held no units')
  t.same(decideChange(null, cancel, NOW), { next: null, returnUnits: false, counted: 'cancelIgnored' })
})

t.test('a payment and an expiry race to one outcome: whichever the partition delivers first', async (t) => {
  const apply = (first: OrderChange, second: OrderChange): State => {
    const row = order('awaiting_payment')
    for (const change of [first, second]) {
      const decided = decideChange(row, change, NOW)
      if (decided.next !== null) row.status = decided.next
      if (decided.next === 'paid') row.paymentId = 'pi_1'
    }
    return row.status
  }
  t.equal(apply(paid(), expireDue), 'paid')
  t.equal(apply(expireDue, paid()), 'expired')
})

t.test('each final state keeps its reason', async (t) => {
  t.equal(reasonOf('paid'), null)
  t.match(reasonOf('expired'), /deadline/)
  t.match(reasonOf('cancelled'), /cancelled/)
})

t.test('messages MySQL could never take go to the dead-letter topic', async (t) => {
  const placed: OrderPlaced = { ...base, type: MessageType.ORDER_PLACED, userId: 'u1', quantity: 1, createdAt: at }
  t.equal(unprocessableReason(placed), null)
  t.match(unprocessableReason({ ...placed, quantity: 2 ** 31 }), /quantity/)
  t.match(unprocessableReason({ ...placed, createdAt: 'yesterday' }), /createdAt/)
  t.match(unprocessableReason({ ...placed, productId: 2 ** 60 }), /productId/)
})
