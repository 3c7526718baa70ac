import { Type, type Static } from '@sinclair/typebox'
// Subpaths, not '@flash/common': the front end type-checks this file, so no server code may come in.
import { FinalOrderStatus, OrderStatus, OrderPaymentStatus, Page, OrderId, ProductId } from '@flash/common/contracts'

// The gateway's HTTP contract. Routes validate against these and /docs is generated from them.

export const USER_ID_PATTERN = '^[A-Za-z0-9._@:-]+$'
export const UserId = Type.String({ minLength: 1, maxLength: 64, pattern: USER_ID_PATTERN, description: 'the buyer id (per-user limits count by it): `sub` of the access token' })

/**
 * The per-order maximum is configuration, so the body schema is built from it. There is no `userId`:
 * the buyer is the signed-in session; a body that still sends one is answered
 * `400 VALIDATION_FAILED` naming body/userId.
 */
export const PlaceOrderBody = (maxQuantity: number) => Type.Object({
  productId: ProductId,
  quantity: Type.Integer({ minimum: 1, maximum: maxQuantity })
}, { additionalProperties: false, description: 'the buyer comes from the session (bearer token or cookie); without one this is a guest order' })
export type PlaceOrderBody = Static<ReturnType<typeof PlaceOrderBody>>

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 128,
    pattern: '^[\\x20-\\x7E]+$',
    description: 'a retry with the same key (and the same body) gets the first answer instead of a second order'
  })),
  'x-room-pass': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 512,
    pattern: '^[A-Za-z0-9_.-]+$',
    description: 'products whose waiting room is on: the pass the room handed this buyer (its status `pass`); one pass, one order'
  })),
  'x-room-ticket': Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_.-]+$', description: 'a guest with a pass: the ticket its join answered' }))
})

export const OrderAccepted = Type.Object({
  orderId: OrderId,
  status: Type.Literal('pending'),
  message: Type.String(),
  receipt: Type.Optional(Type.String({
    description: 'guest orders only: send it as `X-Order-Receipt` to read or withdraw this order (it is the only way to)'
  }))
})

/** a guest's proof of its order: the `receipt` of the 202 (base64url HMAC, 43 characters) */
export const ReceiptHeaders = Type.Object({
  'x-order-receipt': Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$', description: 'the receipt a guest order\'s 202 carried' }))
})
export type OrderAccepted = Static<typeof OrderAccepted>

export const CancelAccepted = Type.Object({
  orderId: OrderId,
  status: Type.Literal('cancel-requested'),
  message: Type.String()
})
export type CancelAccepted = Static<typeof CancelAccepted>

export const Order = Type.Object({
  orderId: OrderId,
  productId: ProductId,
  productName: Type.Union([Type.String(), Type.Null()]),
  quantity: Type.Integer(),
  userId: Type.Union([Type.String(), Type.Null()], { description: 'the buyer id; null for a guest order' }),
  buyerName: Type.Union([Type.String(), Type.Null()], { description: 'the buyer\'s username; null for a guest order' }),
  status: OrderStatus,
  reason: Type.Union([Type.String(), Type.Null()]),
  amount: Type.Union([Type.Integer(), Type.Null()], { description: 'minor units to pay (price × quantity); null for a free or still pending order' }),
  currency: Type.Union([Type.String(), Type.Null()], { description: 'lower-case ISO 4217 code of `amount`' }),
  payBy: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'deadline of the payment hold: unpaid then, the order expires and its units go back on sale' }),
  paymentStatus: Type.Union([OrderPaymentStatus, Type.Null()], { description: 'the latest payment attempt as the buyer sees it; null when no payment applies' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' })
})
export type Order = Static<typeof Order>

export const OrderParams = Type.Object({ id: OrderId })

export const OrderQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  userId: Type.Optional({ ...UserId, description: 'admin token only: one buyer\'s orders (a buyer always gets its own)' }),
  productId: Type.Optional(ProductId),
  status: Type.Optional(Type.Union(FinalOrderStatus.anyOf, {
    description: 'orders the processor has written; pending orders are not listed until then'
  }))
}, { additionalProperties: false })

// Units per product and state, for the admin's product table (aggregates only, no buyer data).
export const SalesQuery = Type.Object({
  productId: Type.Array(ProductId, { minItems: 1, maxItems: 100, uniqueItems: true, description: 'repeat for several products: ?productId=1&productId=2' })
}, { additionalProperties: false })

export const SalesSummary = Type.Object({
  items: Type.Array(Type.Object({
    productId: Type.Integer(),
    unitsSold: Type.Integer({ description: 'units sold for good: confirmed (free) and paid orders' }),
    unitsHeld: Type.Integer({ description: 'units held for orders awaiting payment' }),
    unitsPaid: Type.Integer({ description: 'units of paid orders' }),
    unitsExpired: Type.Integer({ description: 'units of orders that expired unpaid (back on sale)' })
  }))
})
export type SalesSummary = Static<typeof SalesSummary>

export const OrderPage = Page(Order)
export type OrderPage = Static<typeof OrderPage>

// --- the waiting room (docs/ARCHITECTURE.md §10) ---

export const RoomParams = Type.Object({ productId: ProductId })

export const RoomStatus = Type.Object({
  productId: ProductId,
  state: Type.Union([Type.Literal('waiting'), Type.Literal('admitted'), Type.Literal('sold-out'), Type.Literal('none')], {
    description: '`waiting`; `admitted` (order now with `pass` as `X-Room-Pass`); `sold-out` (no units left: the room admits nobody while it lasts); `none` (no place: freed after the keep time, or never taken — join again)'
  }),
  position: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: '1 = next to be admitted; before the sale starts the early crowd is shuffled at the start, so this is only indicative' }),
  ahead: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  waiting: Type.Integer({ minimum: 0, description: 'people in the queue' }),
  stock: Type.Integer({ description: 'units available now' }),
  estimatedWaitSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'people ahead ÷ the measured admission rate; null before anything was measured' }),
  pollAfterMs: Type.Integer({ minimum: 0, description: 'poll again after this long, not sooner' }),
  freed: Type.Integer({ minimum: 0, description: 'places freed so far because their holders stopped polling' }),
  saleStartsAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  pass: Type.Union([Type.String(), Type.Null()], { description: 'admitted buyers: send it as `X-Room-Pass` with the order' }),
  passExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  guestTicket: Type.Optional(Type.String({ description: 'a guest\'s identity in this room: send it as `X-Room-Ticket` with polls and the order' }))
})

export const RoomHeaders = Type.Object({
  'x-room-ticket': Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_.-]+$', description: 'guests: the ticket their join answered' }))
})

/** Optional: a signed-in buyer sends none; a guest sends its solved challenge. Fastify validates an absent body as null. */
export const RoomJoinBody = Type.Union([
  Type.Object({
    proof: Type.Optional(Type.Object({
      challenge: Type.String({ minLength: 1, maxLength: 512 }),
      nonce: Type.String({ minLength: 1, maxLength: 64 })
    }, { additionalProperties: false, description: 'GET /rooms/:productId/challenge, then a nonce with SHA-256(challenge + ":" + nonce) starting with `bits` zero bits' }))
  }, { additionalProperties: false }),
  Type.Null()
])

export const RoomChallenge = Type.Object({
  challenge: Type.String(),
  bits: Type.Integer({ minimum: 0 }),
  expiresAt: Type.String({ format: 'date-time' })
})
export type RoomStatus = Static<typeof RoomStatus>

export const RoomSummary = Type.Object({
  productId: ProductId,
  enabled: Type.Boolean(),
  waiting: Type.Integer({ description: 'in the queue now' }),
  holdingPass: Type.Integer({ description: 'admitted, pass not used or lapsed yet' }),
  joined: Type.Integer({ description: 'places ever taken' }),
  admitted: Type.Integer({ description: 'passes ever handed out' }),
  bought: Type.Integer({ description: 'passes that bought' }),
  freed: Type.Integer({ description: 'places freed: no poll within the keep time (left)' }),
  lapsed: Type.Integer({ description: 'passes that expired unused' }),
  admittedPerSecond: Type.Number({ description: 'the measured admission rate (moving average)' })
})
export type RoomSummary = Static<typeof RoomSummary>
