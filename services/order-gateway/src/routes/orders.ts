import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from '@sinclair/typebox'
import { AppError, ErrorCode, ErrorResponse, adminSecurity, buyerSecurity } from '@flash/common'
import {
  PlaceOrderBody, IdempotencyHeaders, OrderAccepted, CancelAccepted, Order, OrderParams, OrderQuery,
  OrderPage, ReceiptHeaders
} from '../schemas.ts'
import type { OrderPlacement } from '../orders/placement.ts'
import type { OrderCancellation } from '../orders/cancellation.ts'
import type { OrderRepository } from '../orders/repository.ts'
import type { PendingOrders } from '../orders/pending.ts'
import type { Callers } from '@flash/common'
import { lookUpOrder, orderNotFound } from '../orders/lookup.ts'
import type { RoomGate } from '../room/gate.ts'
import type { ClientBudgets } from '../admission/client-budgets.ts'
import type { OrderCounts } from '../live/order-counts.ts'

type RefusalBody = Static<typeof ErrorResponse>

export interface OrderRoutesOptions {
  placement: OrderPlacement
  cancellation: OrderCancellation
  orders: OrderRepository
  pending: PendingOrders
  callers: Callers
  /** products whose waiting room is on take orders only with a pass (docs/ARCHITECTURE.md §10) */
  rooms: RoomGate
  maxQuantityPerOrder: number
  /** orders per client address per window (request.ip: the platform believes X-Forwarded-For only from nginx) */
  budgets: ClientBudgets
  /** the live sale view's per-second counts (docs/ARCHITECTURE.md §11) */
  counts: OrderCounts
}

const tags = ['orders']
/** who may read or withdraw an order: its buyer, the holder of its receipt, or the admin */
const readerSecurity = [...buyerSecurity, { orderReceipt: [] as string[] }, ...adminSecurity]

export const orderRoutes: FastifyPluginAsyncTypebox<OrderRoutesOptions> = async (app, options) => {
  const { placement, cancellation, orders, pending, callers, budgets, rooms, counts } = options

  app.post('/orders', {
    // Per client, before the body is even read. Only a limited client is told about the limit: headers
    // on every order answer were bytes written for nothing on the hot path.
    onRequest: (request, _reply, done) => {
      const over = budgets.take(request.ip)
      if (over === undefined) { done(); return }
      const seconds = String(over.retryAfterSeconds)
      done(new AppError(429, ErrorCode.RATE_LIMITED, `too many orders from this client; retry in ${seconds} second${seconds === '1' ? '' : 's'}`, {
        headers: { 'x-ratelimit-limit': String(budgets.max), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': seconds, 'retry-after': seconds }
      }))
    },
    // The live view's count (docs/ARCHITECTURE.md §11): an answer about a product — accepted, or
    // refused for stock, limit, window, pass or Kafka. Bad input (400), unknown products (404) and
    // requests refused before their body was read (rate limit, overload) are no product's sale.
    onResponse: (request, reply, done) => {
      const status = reply.statusCode
      const body = request.body as { productId?: unknown } | undefined
      if (status !== 400 && status !== 404 && typeof body?.productId === 'number') counts.count(body.productId, status === 202, reply.elapsedTime)
      done()
    },
    // Clients that still send a buyer id get an answer that says why, not only "additional
    // property": the buyer is whoever the session says.
    // A callback hook, not an async one: no promise per order on the hot path.
    preValidation: (request, _reply, done) => {
      const body = request.body
      if (typeof body === 'object' && body !== null && Object.hasOwn(body, 'userId')) {
        done(new AppError(400, ErrorCode.VALIDATION_FAILED,
          'body/userId is not accepted: an order belongs to the signed-in buyer (Authorization: Bearer <access token> or the session cookie); without a session it is a guest order'))
        return
      }
      done()
    },
    schema: {
      tags,
      summary: 'Place an order: reserve stock, queue the order, answer once Kafka has it',
      description: 'Signed in (bearer token or session cookie): the order is the buyer\'s. No session: a guest order, for products without a per-user limit only (else 401 SIGN_IN_REQUIRED); its 202 carries a `receipt`. An invalid or expired token is 401 UNAUTHENTICATED. A product whose waiting room is on needs the buyer\'s pass in `X-Room-Pass` (403 ROOM_PASS_REQUIRED without, 403 ROOM_PASS_INVALID for a forged, expired, used or another buyer\'s one).',
      security: [...buyerSecurity, {}],
      headers: IdempotencyHeaders,
      body: PlaceOrderBody(options.maxQuantityPerOrder),
      response: {
        202: OrderAccepted,
        400: ErrorResponse,
        401: ErrorResponse,
        403: ErrorResponse,
        404: ErrorResponse,
        409: ErrorResponse,
        422: ErrorResponse,
        429: ErrorResponse,
        503: ErrorResponse
      }
    }
  }, async (request, reply) => {
    const { productId, quantity } = request.body
    const refused = placement.refusalFromMemory(productId, quantity)
    // Sent as the JSON text it is (a string with a JSON content type is not serialized again). Sold out
    // is the same answer for everyone, so it comes before the token is even verified.
    if (refused !== undefined) return reply.code(409).type('application/json; charset=utf-8').send(refused as unknown as RefusalBody)
    const caller = callers.of(request, { admin: false })
    const userId = caller.kind === 'buyer' ? caller.buyerId : null
    // A product whose waiting room is on: refused from memory without a valid pass; the reservation
    // uses the pass up in the same script, and an order undone after that (503) gives it back.
    const pass = rooms.passFor(productId, caller, request.headers['x-room-pass'], Date.now(), request.headers['x-room-ticket'])
    let placed
    try {
      placed = await placement.place(
        { productId, quantity, userId, idempotencyKey: request.headers['idempotency-key'], roomPass: pass },
        request.id, request.log)
    } catch (err) {
      if (pass !== undefined && err instanceof AppError && err.statusCode === 503) await rooms.giveBack(pass, request.log)
      throw err
    }
    const { orderId, replayed } = placed
    return reply.code(202).send({
      orderId,
      status: 'pending' as const,
      message: replayed ? 'order already accepted for this Idempotency-Key' : 'order accepted; it is being processed',
      ...(userId === null ? { receipt: callers.receiptFor(orderId) } : {})
    })
  })

  app.get('/orders/:id', {
    schema: {
      tags,
      summary: 'One order and its state (its buyer, its receipt holder or the admin; anyone else: 404)',
      security: readerSecurity,
      params: OrderParams,
      headers: ReceiptHeaders,
      response: { 200: Order, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => {
    const caller = callers.of(request, { admin: true })
    const order = await lookUpOrder(orders, pending, request.params.id)
    if (order === null || !callers.mayAccess(caller, order, request.headers['x-order-receipt'])) throw orderNotFound(request.params.id)
    if (order.status === 'pending') return order
    return (await orders.withBuyerNames([{ ...order, status: order.status }]))[0]
  })

  app.get('/orders', {
    schema: {
      tags,
      summary: 'The caller\'s orders, newest first; with the admin token, everyone\'s (with the buyer)',
      security: [...buyerSecurity, ...adminSecurity],
      querystring: OrderQuery,
      response: { 200: OrderPage, 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => {
    const caller = callers.of(request, { admin: true })
    const { page, pageSize, productId, status } = request.query
    let userId = request.query.userId
    if (caller.kind === 'guest') {
      throw new AppError(401, ErrorCode.SIGN_IN_REQUIRED, 'sign in to list your orders (a guest follows one order with its receipt)',
        { headers: { 'www-authenticate': 'Bearer' } })
    }
    if (caller.kind === 'buyer') {
      if (userId !== undefined && userId !== caller.buyerId) {
        throw new AppError(400, ErrorCode.VALIDATION_FAILED, 'querystring/userId is for the admin only: a buyer lists its own orders')
      }
      userId = caller.buyerId
    }
    const { items, total } = await orders.page({ userId, productId, status }, page, pageSize)
    return { items: await orders.withBuyerNames(items), page, pageSize, total }
  })

  app.delete('/orders/:id', {
    schema: {
      tags,
      summary: 'Withdraw an order: the processor cancels it and returns its units',
      security: readerSecurity,
      params: OrderParams,
      headers: ReceiptHeaders,
      response: { 202: CancelAccepted, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request, reply) => {
    const caller = callers.of(request, { admin: true })
    callers.assertMayChange(caller)
    const receipt = request.headers['x-order-receipt']
    await cancellation.request(request.params.id, request.id, request.log, (order) => callers.mayAccess(caller, order, receipt))
    return reply.code(202).send({ orderId: request.params.id, status: 'cancel-requested' as const, message: 'cancellation requested' })
  })
}
