// What the buyer of a held order sees, decided from the order and its payment alone: a
// pure function, so every state the payment can be in has a fast test (tests/unit/frontend).
import type { Order, Payment } from './api.ts'

export type CheckoutPhase =
  | 'loading'
  /** accepted, not yet written by the processor */
  | 'pending'
  /** units held until payBy: pay now */
  | 'awaiting'
  /** a test card was sent; the provider's answer has not arrived */
  | 'processing'
  /** the card was declined: pay again while the hold lasts */
  | 'declined'
  /** payBy has passed on the server clock; the server has not said `expired` yet */
  | 'expiring'
  | 'paid'
  /** a free product: confirmed with no payment */
  | 'confirmed'
  | 'expired'
  /** paid, then withdrawn or too late: the money is on its way back */
  | 'refunding'
  | 'refunded'
  /** the provider's amount or currency did not match the order: held for a person to look at */
  | 'flagged'
  | 'cancelled'
  | 'failed'

/** The phases after which nothing changes any more: no need to ask the server again. */
export const SETTLED: ReadonlySet<CheckoutPhase> = new Set(['paid', 'confirmed', 'expired', 'refunded', 'flagged', 'cancelled', 'failed'])

export function checkoutPhase(order: Order | null, payment: Pick<Payment, 'status'> | null, nowMs: number): CheckoutPhase {
  if (order === null) return 'loading'
  const refund = order.paymentStatus === 'refund_pending' ? 'refunding' : order.paymentStatus === 'refunded' ? 'refunded' : null
  switch (order.status) {
    case 'pending': return 'pending'
    case 'confirmed': return 'confirmed'
    case 'failed': return 'failed'
    case 'paid': return order.paymentStatus === 'flagged' ? 'flagged' : refund ?? 'paid'
    // A payment that arrived after the hold ended is refunded: the order says so.
    case 'expired': return refund ?? 'expired'
    case 'cancelled': return refund ?? 'cancelled'
    case 'awaiting_payment': break
  }
  if (order.paymentStatus === 'paid' || payment?.status === 'succeeded' || payment?.status === 'paid') return 'processing'
  if (payment?.status === 'processing') return 'processing'
  if (order.paymentStatus === 'flagged' || payment?.status === 'flagged') return 'flagged'
  const payBy = order.payBy ? Date.parse(order.payBy) : Number.NaN
  if (Number.isFinite(payBy) && nowMs >= payBy) return 'expiring'
  if (payment?.status === 'declined' || (payment === null && order.paymentStatus === 'declined')) return 'declined'
  return 'awaiting'
}

/** Whether the buyer may (still) pay: the hold lasts and no payment is on its way. */
export function canPay(phase: CheckoutPhase): boolean {
  return phase === 'awaiting' || phase === 'declined'
}

/** Integer minor units as money in the buyer's language: 1234 cny → ¥12.34, 500 jpy → ￥500. */
export function formatAmount(minor: number, currency: string, locale: string): string {
  let format: Intl.NumberFormat
  try {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency: currency.toUpperCase() })
  } catch {
    return `${minor} ${currency}`
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2
  return format.format(minor / 10 ** digits)
}
