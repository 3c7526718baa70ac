import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { randomBytes } from 'node:crypto'
import {
  AppError, ErrorCode, ErrorResponse, adminSecurity, buyerSecurity, estimateWaitSeconds, pollAfterMs, preStartScore, serviceUnavailable,
  type Callers, type PollLimits, type PollPlace, type OperatorAuth, type RoomPasses, type RoomStatus as StoredStatus, type RoomStore
} from '@flash/common'
import type { FastifyRequest } from 'fastify'
import { RoomChallenge, RoomHeaders, RoomJoinBody, RoomParams, RoomStatus, RoomSummary } from '../schemas.ts'
import type { RoomGuests } from '../room/guests.ts'

// The waiting room's buyer routes (docs/ARCHITECTURE.md §10): join, then poll as told until admitted.

export interface RoomRoutesOptions {
  store: RoomStore
  passes: RoomPasses
  callers: Callers
  /** how often a waiting buyer polls (decisions.ts pollAfterMs) */
  poll: PollLimits
  operators: OperatorAuth
  guests: RoomGuests
}

const tags = ['waiting room']
const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()
const roomOff = (productId: number): AppError =>
  new AppError(404, ErrorCode.ROOM_NOT_FOUND, `product ${productId} has no waiting room: order it directly`)
const placeOf = (status: StoredStatus): PollPlace => ({
  ahead: status.ahead,
  admittedPerSecond: status.admittedPerSecond,
  stock: status.stock,
  holdingPass: status.holdingPass,
  sinceStartMs: status.startsAt === null ? Number.POSITIVE_INFINITY : status.now - status.startsAt
})
const responses = { 200: RoomStatus, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse }

export const roomRoutes: FastifyPluginAsyncTypebox<RoomRoutesOptions> = async (app, options) => {
  const { store, passes, callers, poll, guests } = options

  /** The signed-in buyer, or the guest its ticket names (guestOf throws without a valid one). */
  const whoIs = (request: FastifyRequest<{ Headers: { 'x-room-ticket'?: string } }>, productId: number): { id: string, guest: boolean } => {
    const caller = callers.of(request, { admin: false })
    if (caller.kind === 'buyer') return { id: caller.buyerId, guest: false }
    return { id: guests.guestOf(productId, request.headers['x-room-ticket']), guest: true }
  }

  const answer = (productId: number, buyerId: string, status: StoredStatus): RoomStatus => ({
    productId,
    state: status.state,
    position: status.ahead === null ? null : status.ahead + 1,
    ahead: status.ahead,
    waiting: status.waiting,
    stock: status.stock,
    estimatedWaitSeconds: status.ahead === null || status.state === 'sold-out' ? null : estimateWaitSeconds(status.ahead, status.admittedPerSecond),
    pollAfterMs: status.state === 'waiting' ? pollAfterMs(placeOf(status), poll, Math.random()) : poll.minMs,
    freed: status.freed,
    saleStartsAt: iso(status.startsAt),
    pass: status.state === 'admitted' && status.passExpiresAt !== null ? passes.issue({ productId, buyerId, expiresAt: status.passExpiresAt }) : null,
    passExpiresAt: status.state === 'admitted' ? iso(status.passExpiresAt) : null
  })

  const redisDown = (err: unknown): AppError => serviceUnavailable('the waiting room cannot be reached; retry', err)

  app.get('/rooms/:productId/challenge', {
    schema: {
      tags,
      summary: 'A proof-of-work challenge for a guest\'s join (products that allow guests)',
      params: RoomParams,
      response: { 200: RoomChallenge, 400: ErrorResponse, 429: ErrorResponse }
    }
  }, async (request) => {
    const issued = guests.challenge(request.params.productId)
    return { ...issued, expiresAt: new Date(issued.expiresAt).toISOString() }
  })

  app.post('/rooms/:productId/join', {
    schema: {
      tags,
      summary: 'Take a place in a product\'s waiting room (joining again answers the same place)',
      description: 'Before the sale starts every joiner gets a random place (shuffled at the start); from the start, first come first served. Poll the status after `pollAfterMs`. Signed-in buyers send no body; a guest (products without a per-buyer limit) sends a solved `proof` the first time and its `X-Room-Ticket` after that.',
      security: [...buyerSecurity, {}],
      params: RoomParams,
      headers: RoomHeaders,
      body: RoomJoinBody,
      response: { ...responses, 403: ErrorResponse }
    }
  }, async (request) => {
    const { productId } = request.params
    const caller = callers.of(request, { admin: false })
    const ticket = request.headers['x-room-ticket']
    let who: { id: string, guest: boolean }
    if (caller.kind === 'buyer') who = { id: caller.buyerId, guest: false }
    else if (ticket !== undefined) who = { id: guests.guestOf(productId, ticket), guest: true }
    else who = { id: await guests.admit(productId, request.body?.proof).catch((err: unknown) => { throw err instanceof AppError ? err : redisDown(err) }), guest: true }
    const buyerId = who.id
    const outcome = await store.join(productId, buyerId, preStartScore(randomBytes(8)), who.guest).catch((err: unknown) => { throw redisDown(err) })
    if (outcome.kind === 'off') throw roomOff(productId)
    if (outcome.kind === 'sign-in-required') {
      throw new AppError(401, ErrorCode.SIGN_IN_REQUIRED, `product ${productId} has a per-buyer limit: sign in to wait for it`,
        { headers: { 'www-authenticate': 'Bearer' } })
    }
    if (outcome.kind === 'not-open') {
      const opensAt = new Date(outcome.opensAt).toISOString()
      throw new AppError(409, ErrorCode.ROOM_NOT_OPEN, `the waiting room of product ${productId} opens at ${opensAt}`, { details: { opensAt } })
    }
    return { ...answer(productId, buyerId, outcome.status), ...(who.guest ? { guestTicket: guests.ticketFor(productId, buyerId) } : {}) }
  })

  app.get('/rooms/:productId', {
    preHandler: options.operators.require('read'),
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
    schema: {
      tags,
      summary: 'The buyer\'s place: position, people ahead, estimated wait, live stock, and the pass once admitted',
      security: [...buyerSecurity, {}],
      params: RoomParams,
      headers: RoomHeaders,
      response: responses
    }
  }, async (request) => {
    const { productId } = request.params
    const buyerId = whoIs(request, productId).id
    const status = await store.status(productId, buyerId).catch((err: unknown) => { throw redisDown(err) })
    if (status === null) throw roomOff(productId)
    return answer(productId, buyerId, status)
  })
}
