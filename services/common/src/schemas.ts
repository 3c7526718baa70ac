import { Type, type Static, type TSchema } from '@sinclair/typebox'

// The shapes more than one service speaks, as TypeBox schemas (validation, serialization, OpenAPI)
// with their static types. This file imports nothing but TypeBox: the front end imports its types
// (`import type`) through the services' schemas.ts, so it must stay free of server code.

/** A product on sale (`active`) or withdrawn for good (`archived`): MySQL `products.status`. */
export const ProductStatus = Type.Union([Type.Literal('active'), Type.Literal('archived')])
export type ProductStatus = Static<typeof ProductStatus>

/** The states the processor writes to MySQL `orders.status`; a pending order has no row yet. */
export const FinalOrderStatus = Type.Union([Type.Literal('confirmed'), Type.Literal('failed'), Type.Literal('cancelled')])
export type FinalOrderStatus = Static<typeof FinalOrderStatus>

/** An order as clients see it: `pending` until the processor has written its row. */
export const OrderStatus = Type.Union([Type.Literal('pending'), ...FinalOrderStatus.anyOf])
export type OrderStatus = Static<typeof OrderStatus>

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
