import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { OrderId, ProductId } from './schemas.ts'

// The Kafka message types of topic `orders`, defined once. Key = order id (so every message of one
// order lands on one partition, in order); value = JSON below; header `x-request-id` for tracing.

export const MessageType = {
  ORDER_PLACED: 'order.placed',
  ORDER_CANCEL_REQUESTED: 'order.cancel-requested',
  ORDER_PAID: 'order.paid',
  ORDER_EXPIRE_DUE: 'order.expire-due'
} as const

export const SCHEMA_VERSION = 1
export const REQUEST_ID_HEADER = 'x-request-id'

// As strict as the orders table: a message that MySQL would reject is poison (DLQ), never a
// partition that retries forever.
const RequestId = Type.String({ minLength: 1, maxLength: 64 })
const Timestamp = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$' })

export const OrderPlaced = Type.Object({
  type: Type.Literal(MessageType.ORDER_PLACED),
  version: Type.Literal(SCHEMA_VERSION),
  orderId: OrderId,
  productId: ProductId,
  quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  userId: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
  requestId: RequestId,
  createdAt: Timestamp
}, { additionalProperties: false })
export type OrderPlaced = Static<typeof OrderPlaced>

export const OrderCancelRequested = Type.Object({
  type: Type.Literal(MessageType.ORDER_CANCEL_REQUESTED),
  version: Type.Literal(SCHEMA_VERSION),
  orderId: OrderId,
  productId: ProductId,
  requestId: RequestId,
  requestedAt: Timestamp
}, { additionalProperties: false })
export type OrderCancelRequested = Static<typeof OrderCancelRequested>

/** The provider took the money for an order (payment-service, after the verified webhook). */
export const OrderPaid = Type.Object({
  type: Type.Literal(MessageType.ORDER_PAID),
  version: Type.Literal(SCHEMA_VERSION),
  orderId: OrderId,
  productId: ProductId,
  paymentId: Type.String({ minLength: 1, maxLength: 64 }),
  amount: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  currency: Type.String({ pattern: '^[a-z]{3}$' }),
  requestId: RequestId,
  paidAt: Timestamp
}, { additionalProperties: false })
export type OrderPaid = Static<typeof OrderPaid>

/** An order's payment deadline passed while it still awaited payment (the processor's expiry scan). */
export const OrderExpireDue = Type.Object({
  type: Type.Literal(MessageType.ORDER_EXPIRE_DUE),
  version: Type.Literal(SCHEMA_VERSION),
  orderId: OrderId,
  productId: ProductId,
  requestId: RequestId,
  payBy: Timestamp
}, { additionalProperties: false })
export type OrderExpireDue = Static<typeof OrderExpireDue>

export type OrderMessage = OrderPlaced | OrderCancelRequested | OrderPaid | OrderExpireDue

const schemaOf: Record<string, TSchema> = {
  [MessageType.ORDER_PLACED]: OrderPlaced,
  [MessageType.ORDER_CANCEL_REQUESTED]: OrderCancelRequested,
  [MessageType.ORDER_PAID]: OrderPaid,
  [MessageType.ORDER_EXPIRE_DUE]: OrderExpireDue
}

/** What goes to `orders.dlq`: the original bytes and why they can never be processed. */
export interface DeadLetter {
  reason: string
  topic: string
  partition: number
  offset: string
  key: string | null
  value: string | null
  failedAt: string
}

export type Decoded = { ok: true, message: OrderMessage } | { ok: false, reason: string }

export function encodeMessage (message: OrderMessage): string {
  return JSON.stringify(message)
}

/** A message as a Kafka record of `orders`: keyed by its order id (one order, one partition, in order). */
export function orderRecord (message: OrderMessage): { key: string, value: string, headers: Record<string, string> } {
  return { key: message.orderId, value: encodeMessage(message), headers: { [REQUEST_ID_HEADER]: message.requestId } }
}

/** Decodes a message value; anything that is not a known, well-formed message is a poison message. */
export function decodeMessage (value: Buffer | string | null): Decoded {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty message value' }
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString())
  } catch {
    return { ok: false, reason: 'value is not JSON' }
  }
  if (typeof parsed !== 'object' || parsed === null) return { ok: false, reason: 'value is not a JSON object' }
  const type = (parsed as { type?: unknown }).type
  const schema = typeof type === 'string' && Object.hasOwn(schemaOf, type) ? schemaOf[type] : undefined
  if (schema === undefined) return { ok: false, reason: `unknown message type ${JSON.stringify(type)}` }
  if (!Value.Check(schema, parsed)) {
    const first = Value.Errors(schema, parsed).First()
    return { ok: false, reason: `invalid ${String(type)}: ${first ? `${first.path || '/'} ${first.message}` : 'schema mismatch'}` }
  }
  return { ok: true, message: parsed as OrderMessage }
}
