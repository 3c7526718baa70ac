import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ORDER_ID_PATTERN } from './ids.ts'

// The Kafka message types of topic `orders`, defined once. Key = order id (so every message of one
// order lands on one partition, in order); value = JSON below; header `x-request-id` for tracing.

export const MessageType = {
  ORDER_PLACED: 'order.placed',
  ORDER_CANCEL_REQUESTED: 'order.cancel-requested'
} as const

export const SCHEMA_VERSION = 1
export const REQUEST_ID_HEADER = 'x-request-id'

// As strict as the orders table: a message that MySQL would reject is poison (DLQ), never a
// partition that retries forever.
const OrderId = Type.String({ pattern: ORDER_ID_PATTERN })
const ProductId = Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 })
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

export type OrderMessage = OrderPlaced | OrderCancelRequested

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
  const schema = type === MessageType.ORDER_PLACED
    ? OrderPlaced
    : type === MessageType.ORDER_CANCEL_REQUESTED ? OrderCancelRequested : undefined
  if (schema === undefined) return { ok: false, reason: `unknown message type ${JSON.stringify(type)}` }
  if (!Value.Check(schema, parsed)) {
    const first = Value.Errors(schema, parsed).First()
    return { ok: false, reason: `invalid ${String(type)}: ${first ? `${first.path || '/'} ${first.message}` : 'schema mismatch'}` }
  }
  return { ok: true, message: parsed as OrderMessage }
}
