import { Type, type Static, type TSchema, type TLiteral } from '@sinclair/typebox'

// The shapes more than one service speaks, as TypeBox schemas (validation, serialization, OpenAPI)
// with their static types. This file imports nothing but TypeBox: the front end imports its types
// (`import type`) through the services' schemas.ts, so it must stay free of server code.

/** A product's id: MySQL's auto-increment, within what a JSON number holds exactly. */
export const ProductId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
export type ProductId = Static<typeof ProductId>

/** Crockford base32, 26 characters: what newOrderId (ids.ts) issues. */
export const ORDER_ID_PATTERN = '^[0-9A-HJKMNP-TV-Z]{26}$'

/** An order's id: the ULID the gateway issues (time-ordered, the `orders` primary key). */
export const OrderId = Type.String({ pattern: ORDER_ID_PATTERN, description: 'ULID issued by the gateway' })
export type OrderId = Static<typeof OrderId>

/** A product on sale (`active`) or withdrawn for good (`archived`): MySQL `products.status`. */
export const ProductStatus = Type.Union([Type.Literal('active'), Type.Literal('archived')])
export type ProductStatus = Static<typeof ProductStatus>

/**
 * The states the processor writes to MySQL `orders.status`; a pending order has no row yet.
 * `confirmed`: a free product's order, done. `awaiting_payment`: a priced product's units held until
 * `payBy`; then `paid`, or `expired` (units back on sale). `cancelled`: withdrawn by the buyer (a paid
 * one is refunded). `failed`: never sold (its reason says why).
 */
export const FinalOrderStatus = Type.Union([
  Type.Literal('confirmed'), Type.Literal('failed'), Type.Literal('cancelled'),
  Type.Literal('awaiting_payment'), Type.Literal('paid'), Type.Literal('expired')
])
export type FinalOrderStatus = Static<typeof FinalOrderStatus>

/** An order as clients see it: `pending` until the processor has written its row. */
export const OrderStatus = Type.Union([Type.Literal('pending'), ...FinalOrderStatus.anyOf])
export type OrderStatus = Static<typeof OrderStatus>

/**
 * A payment attempt at the provider, MySQL `payments.status`. `succeeded`: the provider took the
 * money, not yet matched with its order; `paid`: it paid its order; `refund_pending` / `refunded`: the
 * order could not take it (expired, withdrawn, already paid) and the money goes back; `flagged`: the
 * provider's amount or currency differs from the order's, never applied.
 */
export const PaymentStatus = Type.Union(['requires_payment', 'processing', 'succeeded', 'declined', 'paid', 'refund_pending', 'refunded', 'flagged']
  .map((s) => Type.Literal(s)) as [TLiteral<'requires_payment'>, TLiteral<'processing'>, TLiteral<'succeeded'>, TLiteral<'declined'>, TLiteral<'paid'>, TLiteral<'refund_pending'>, TLiteral<'refunded'>, TLiteral<'flagged'>])
export type PaymentStatus = Static<typeof PaymentStatus>

/** An order's payment as the buyer sees it (null: the order needs none, a free product). */
export const OrderPaymentStatus = Type.Union([
  Type.Literal('unpaid'), Type.Literal('declined'), Type.Literal('paid'), Type.Literal('refund_pending'),
  Type.Literal('refunded'), Type.Literal('flagged')
])
export type OrderPaymentStatus = Static<typeof OrderPaymentStatus>

/** What the buyer sees of the latest payment attempt of an order. */
export function orderPaymentStatus (orderStatus: string, payment: PaymentStatus | null): OrderPaymentStatus | null {
  switch (payment) {
    case 'succeeded': case 'paid': return 'paid'
    case 'declined': case 'refund_pending': case 'refunded': case 'flagged': return payment
    default: return orderStatus === 'confirmed' || orderStatus === 'failed' || orderStatus === 'pending' ? null : 'unpaid'
  }
}

/**
 * Every error answer of every service (see errors.ts, errorBody): Fastify's shape plus the extra
 * fields some codes carry. Extra properties pass through serialization.
 */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  available: Type.Optional(Type.Integer({ description: 'INSUFFICIENT_STOCK: units left' })),
  remaining: Type.Optional(Type.Integer({ description: 'PER_USER_LIMIT: units the user may still buy' })),
  saleStartsAt: Type.Optional(Type.String({ format: 'date-time', description: 'SALE_NOT_STARTED: when the sale opens (UTC)' })),
  saleEndsAt: Type.Optional(Type.String({ format: 'date-time', description: 'SALE_ENDED: when the sale closed (UTC)' }))
}, { additionalProperties: true })
export type ErrorResponse = Static<typeof ErrorResponse>

/** One page of a listing (`GET /products`, `GET /orders`): the items and where they stand in the whole. */
export const Page = <Item extends TSchema>(item: Item) => Type.Object({
  items: Type.Array(item),
  page: Type.Integer(),
  pageSize: Type.Integer(),
  total: Type.Integer()
})
