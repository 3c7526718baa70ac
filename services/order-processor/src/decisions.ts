import {
  MessageType,
  type OrderMessage, type OrderPlaced, type OrderCancelRequested, type OrderPaid, type OrderExpireDue,
  type OrderRecord, type ClaimState
} from '@flash/common'

// What the processor decides about each message, as pure functions (docs/ARCHITECTURE.md §4 step 5,
// §8): batch.ts reads the rows, asks these, and writes the answers. Unit-tested without a server in
// test/decisions.unit.test.ts; the stack suites prove the writes.

export const FailureReason = {
  PRODUCT_NOT_FOUND: 'product not found',
  PRODUCT_ARCHIVED: 'product archived',
  RESERVATION_RELEASED: 'reservation released',
  INSUFFICIENT_STOCK: 'insufficient stock'
} as const
export type FailureReason = typeof FailureReason[keyof typeof FailureReason]

export const CANCELLED_REASON = 'cancelled by customer'
export const EXPIRED_REASON = 'not paid by the deadline'

/** Largest quantity an order row can hold (orders.quantity is INT UNSIGNED; stay well inside it). */
const MAX_QUANTITY = 2_147_483_647

/** Why a well-formed message can still never be written (it goes to the DLQ), or null. */
export function unprocessableReason (message: OrderMessage): string | null {
  if (message.type === MessageType.ORDER_PLACED) {
    if (message.quantity > MAX_QUANTITY) return `invalid order.placed: /quantity must be <= ${MAX_QUANTITY}`
    if (Number.isNaN(Date.parse(message.createdAt))) return 'invalid order.placed: /createdAt is not a date'
  }
  if (!Number.isSafeInteger(message.productId)) return `invalid ${message.type}: /productId is not a safe integer`
  return null
}

/**
 * Why a new order fails before any stock is taken for it, or null when it may take stock: its
 * product is gone or archived, or its reservation was released (its units are back on sale, so
 * selling them here would sell them twice).
 */
export function placedFailure (product: { status: 'active' | 'archived' } | undefined, claim: ClaimState | undefined): FailureReason | null {
  if (product === undefined) return FailureReason.PRODUCT_NOT_FOUND
  if (product.status === 'archived') return FailureReason.PRODUCT_ARCHIVED
  if (claim === 'void') return FailureReason.RESERVATION_RELEASED
  return null
}

export interface Hold { amount: number, currency: string, payBy: Date }

/**
 * The payment hold of an order the product can cover: a priced product's units wait for payment
 * until `payBy` (the order's acceptance plus the product's window, so a replay computes the same
 * deadline); a free product's order is confirmed at once (null).
 */
export function holdOf (product: { price: number, paymentWindowSeconds: number }, order: Pick<OrderPlaced, 'quantity' | 'createdAt'>,
  currency: string): Hold | null {
  if (product.price <= 0) return null
  return {
    amount: product.price * order.quantity,
    currency,
    payBy: new Date(Date.parse(order.createdAt) + product.paymentWindowSeconds * 1000)
  }
}

/** A change of an existing order: a withdrawal, a payment, or its hold's deadline. */
export type OrderChange = OrderCancelRequested | OrderPaid | OrderExpireDue

/** Orders a withdrawal takes back (a paid one is then refunded by the payment-service). */
const WITHDRAWABLE: ReadonlySet<string> = new Set(['confirmed', 'awaiting_payment', 'paid'])

export interface ChangeDecision {
  /** the order's new state, or null when it keeps its own */
  next: 'paid' | 'expired' | 'cancelled' | null
  /**
   * Its units go back on sale in Redis. With `next` expired or cancelled they go back in MySQL too;
   * without, MySQL was done already and the Redis return is emitted again in case a crash came before
   * Redis got them (the return is marked there, so a second one changes nothing).
   */
  returnUnits: boolean
  /** the batch outcome's counter this change adds to, if any */
  counted: 'paid' | 'latePayments' | 'expired' | 'cancelled' | 'cancelIgnored' | null
}

const decision = (next: ChangeDecision['next'], returnUnits: boolean, counted: ChangeDecision['counted']): ChangeDecision =>
  ({ next, returnUnits, counted })

/**
 * What one change does to its order (null: no such order in MySQL), at `now`. The changes of one
 * order arrive in partition order and each sees the state the previous one left, so a payment and
 * its order's expiry race to exactly one outcome: whichever the partition delivers first.
 */
export function decideChange (order: Pick<OrderRecord, 'status' | 'amount' | 'currency' | 'payBy' | 'paymentId'> | null,
  change: OrderChange, now: number): ChangeDecision {
  switch (change.type) {
    case MessageType.ORDER_PAID:
      if (order !== null && order.status === 'awaiting_payment' && order.amount === change.amount && order.currency === change.currency) {
        return decision('paid', false, 'paid')
      }
      // The same payment delivered again changes nothing; any other (the hold expired, the order was
      // withdrawn or paid by another payment, a different amount) is not this order's to take: the
      // payment-service sees the order and refunds it.
      return order?.paymentId === change.paymentId ? decision(null, false, null) : decision(null, false, 'latePayments')
    case MessageType.ORDER_EXPIRE_DUE:
      if (order !== null && order.status === 'awaiting_payment' && order.payBy !== null && order.payBy.getTime() <= now) {
        return decision('expired', true, 'expired')
      }
      return decision(null, order?.status === 'expired', null)
    case MessageType.ORDER_CANCEL_REQUESTED:
      if (order === null || order.status === 'failed') return decision(null, false, 'cancelIgnored')
      if (WITHDRAWABLE.has(order.status)) return decision('cancelled', true, 'cancelled')
      // Cancelled or expired already.
      return decision(null, true, 'cancelIgnored')
  }
}

/** The reason stored with an order's final state. */
export function reasonOf (status: 'paid' | 'expired' | 'cancelled'): string | null {
  return status === 'expired' ? EXPIRED_REASON : status === 'cancelled' ? CANCELLED_REASON : null
}
