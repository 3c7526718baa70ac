import type { FinalOrderStatus } from './schemas.ts'

// An order as MySQL `orders` holds it, read the same way by everyone who reads a row whole (the
// processor under its lock, the payment-service deciding what a payment is for). Columns in §3 of
// docs/ARCHITECTURE.md.

export interface OrderRecord {
  id: string
  productId: number
  userId: string | null
  quantity: number
  status: FinalOrderStatus
  /** minor units; null for a free order */
  amount: number | null
  currency: string | null
  /** the hold's deadline; null for a free order */
  payBy: Date | null
  /** the payment that paid it */
  paymentId: string | null
}

export const ORDER_RECORD_COLUMNS = 'id, product_id, user_id, quantity, status, amount, currency, pay_by, payment_id'

type Row = Record<string, unknown>
const text = (value: unknown): string | null => value === null || value === undefined ? null : String(value)

export function toOrderRecord (row: Row): OrderRecord {
  return {
    id: String(row.id),
    productId: Number(row.product_id),
    userId: text(row.user_id),
    quantity: Number(row.quantity),
    status: row.status as FinalOrderStatus,
    amount: row.amount === null ? null : Number(row.amount),
    currency: text(row.currency),
    payBy: row.pay_by === null ? null : row.pay_by as Date,
    paymentId: text(row.payment_id)
  }
}
