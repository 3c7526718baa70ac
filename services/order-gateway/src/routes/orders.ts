import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from '@sinclair/typebox'
import { AppError, ErrorCode } from '@flash/common'
import {
  PlaceOrderBody, IdempotencyHeaders, OrderAccepted, CancelAccepted, Order, OrderParams, OrderQuery,
  OrderPage, ErrorResponse
} from '../schemas.ts'
import type { OrderPlacement } from '../orders/placement.ts'
import type { OrderCancellation } from '../orders/cancellation.ts'
import type { OrderRepository } from '../orders/repository.ts'
import type { PendingOrders } from '../orders/pending.ts'
import { lookUpOrder } from '../orders/lookup.ts'

type RefusalBody = Static<typeof ErrorResponse>

export interface OrderRoutesOptions {
  placement: OrderPlacement
  cancellation: OrderCancellation
  orders: OrderRepository
  pending: PendingOrders
  maxQuantityPerOrder: number
  rateLimit: { max: number, timeWindow: number }
}

const tags = ['orders']

export const orderRoutes: FastifyPluginAsyncTypebox<OrderRoutesOptions> = async (app, options) => {
  const { placement, cancellation, orders, pending } = options

  app.post('/orders', {
    config: { rateLimit: options.rateLimit },
    schema: {
      tags,
      summary: 'Place an order: reserve stock, queue the order, answer once Kafka has it',
      headers: IdempotencyHeaders,
      body: PlaceOrderBody(options.maxQuantityPerOrder),
      response: {
        202: OrderAccepted,
        400: ErrorResponse,
        404: ErrorResponse,
        409: ErrorResponse,
        422: ErrorResponse,
        429: ErrorResponse,
        503: ErrorResponse
      }
    }
  }, async (request, reply) => {
    const { productId, quantity, userId } = request.body
    const refused = placement.refusalFromMemory(productId, quantity)
    // Sent as the JSON text it is (a string with a JSON content type is not serialized again).
    if (refused !== undefined) return reply.code(409).type('application/json; charset=utf-8').send(refused as unknown as RefusalBody)
    const { orderId, replayed } = await placement.place(
      { productId, quantity, userId: userId ?? null, idempotencyKey: request.headers['idempotency-key'] },
      request.id, request.log)
    return reply.code(202).send({
      orderId,
      status: 'pending' as const,
      message: replayed ? 'order already accepted for this Idempotency-Key' : 'order accepted; it is being processed'
    })
  })

  app.get('/orders/:id', {
    schema: { tags, summary: 'One order and its state', params: OrderParams, response: { 200: Order, 400: ErrorResponse, 404: ErrorResponse } }
  }, async (request) => {
    const order = await lookUpOrder(orders, pending, request.params.id)
    if (order === null) throw new AppError(404, ErrorCode.ORDER_NOT_FOUND, `order ${request.params.id} does not exist`)
    return order
  })

  app.get('/orders', {
    schema: { tags, summary: 'Orders, newest first', querystring: OrderQuery, response: { 200: OrderPage, 400: ErrorResponse } }
  }, async (request) => {
    const { page, pageSize, userId, productId, status } = request.query
    const { items, total } = await orders.page({ userId, productId, status }, page, pageSize)
    return { items, page, pageSize, total }
  })

  app.delete('/orders/:id', {
    schema: {
      tags,
      summary: 'Withdraw an order: the processor cancels it and returns its units',
      params: OrderParams,
      response: { 202: CancelAccepted, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request, reply) => {
    await cancellation.request(request.params.id, request.id, request.log)
    return reply.code(202).send({ orderId: request.params.id, status: 'cancel-requested' as const, message: 'cancellation requested' })
  })
}
