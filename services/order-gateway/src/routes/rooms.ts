import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { randomBytes } from 'node:crypto'
import {
  AppError, ErrorCode, ErrorResponse, adminSecurity, buyerSecurity, estimateWaitSeconds, requireAdmin, preStartScore, serviceUnavailable,
  type Callers, type RoomPasses, type RoomStatus as StoredStatus, type RoomStore
} from '@flash/common'
import type { FastifyRequest } from 'fastify'
import { RoomParams, RoomStatus, RoomSummary } from '../schemas.ts'

// The waiting room's buyer routes (docs/ARCHITECTURE.md §10): join, then poll as told until admitted.

export interface RoomRoutesOptions {
  store: RoomStore
  passes: RoomPasses
  callers: Callers
  pollMs: number
  adminToken: string
  rateLimit: { max: number, timeWindow: number }
}

const tags = ['waiting room']
const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()
const roomOff = (productId: number): AppError =>
  new AppError(404, ErrorCode.ROOM_NOT_FOUND, `product ${productId} has no waiting room: order it directly`)
const responses = { 200: RoomStatus, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse }

export const roomRoutes: FastifyPluginAsyncTypebox<RoomRoutesOptions> = async (app, options) => {
  const { store, passes, callers, pollMs } = options

  const buyerOf = (request: FastifyRequest, productId: number): string => {
    const caller = callers.of(request, { admin: false })
    if (caller.kind !== 'buyer') {
      throw new AppError(401, ErrorCode.SIGN_IN_REQUIRED, `sign in to wait for product ${productId}: a place belongs to an account`,
        { headers: { 'www-authenticate': 'Bearer' } })
    }
    return caller.buyerId
  }

  const answer = (productId: number, buyerId: string, status: StoredStatus): RoomStatus => ({
    productId,
    state: status.state,
    position: status.ahead === null ? null : status.ahead + 1,
    ahead: status.ahead,
    waiting: status.waiting,
    stock: status.stock,
    estimatedWaitSeconds: status.ahead === null || status.state === 'sold-out' ? null : estimateWaitSeconds(status.ahead, status.admittedPerSecond),
    pollAfterMs: pollMs,
    freed: status.freed,
    saleStartsAt: iso(status.startsAt),
    pass: status.state === 'admitted' && status.passExpiresAt !== null ? passes.issue({ productId, buyerId, expiresAt: status.passExpiresAt }) : null,
    passExpiresAt: status.state === 'admitted' ? iso(status.passExpiresAt) : null
  })

  const redisDown = (err: unknown): AppError => serviceUnavailable('the waiting room cannot be reached; retry', err)

  app.post('/rooms/:productId/join', {
    config: { rateLimit: options.rateLimit },
    schema: {
      tags,
      summary: 'Take a place in a product\'s waiting room (signed-in buyers; joining again answers the same place)',
      description: 'Before the sale starts every joiner gets a random place (shuffled at the start); from the start, first come first served. Poll the status after `pollAfterMs`.',
      security: buyerSecurity,
      params: RoomParams,
      response: responses
    }
  }, async (request) => {
    const { productId } = request.params
    const buyerId = buyerOf(request, productId)
    const outcome = await store.join(productId, buyerId, preStartScore(randomBytes(8))).catch((err: unknown) => { throw redisDown(err) })
    if (outcome.kind === 'off') throw roomOff(productId)
    if (outcome.kind === 'not-open') {
      const opensAt = new Date(outcome.opensAt).toISOString()
      throw new AppError(409, ErrorCode.ROOM_NOT_OPEN, `the waiting room of product ${productId} opens at ${opensAt}`, { details: { opensAt } })
    }
    return answer(productId, buyerId, outcome.status)
  })

  app.get('/rooms/:productId', {
    preHandler: requireAdmin(options.adminToken),
    schema: {
      tags,
      summary: 'Admin: a product\'s waiting room — waiting, holding a pass, admitted, bought, left',
      security: adminSecurity,
      params: RoomParams,
      response: { 200: RoomSummary, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => {
    const { productId } = request.params
    const summary = await store.summary(productId).catch((err: unknown) => { throw redisDown(err) })
    return { productId, ...summary }
  })

  app.get('/rooms/:productId/status', {
    config: { rateLimit: options.rateLimit },
    schema: {
      tags,
      summary: 'The buyer\'s place: position, people ahead, estimated wait, live stock, and the pass once admitted',
      security: buyerSecurity,
      params: RoomParams,
      response: responses
    }
  }, async (request) => {
    const { productId } = request.params
    const buyerId = buyerOf(request, productId)
    const status = await store.status(productId, buyerId).catch((err: unknown) => { throw redisDown(err) })
    if (status === null) throw roomOff(productId)
    return answer(productId, buyerId, status)
  })
}
