import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { AccessClaims, Receipts } from './tokens.ts'
import { accessTokenOf, bearerToken } from './session.ts'

// Who is asking. The gateway and the payment-service verify the buyer's signed access token per request,
// with no database or Redis call (a few microseconds of HMAC-SHA256); accounts and passwords live in
// the catalog. The admin reads every order with the same ADMIN_TOKEN bearer as catalog writes.

export type Caller =
  | { kind: 'admin' }
  | { kind: 'buyer', buyerId: string, username: string }
  | { kind: 'guest' }

export interface CallerOptions {
  adminToken: string
  verifyAccessToken: (token: string) => AccessClaims
  receipts: Receipts
}

const GUEST: Caller = { kind: 'guest' }
const ADMIN: Caller = { kind: 'admin' }
const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

export class Callers {
  readonly #o: CallerOptions
  readonly #adminDigest: Buffer

  constructor (options: CallerOptions) {
    this.#o = options
    this.#adminDigest = digest(options.adminToken)
  }

  /**
   * The caller of a request. No token: a guest. A token that is not valid (forged, `alg: none`,
   * expired, wrong issuer…): 401 UNAUTHENTICATED, never a silent downgrade to guest — a buyer whose
   * session lapsed must not place a guest order by accident. `admin`: whether the ADMIN_TOKEN bearer
   * counts here (reads and withdrawals; placing an order needs a buyer or nobody).
   */
  of (request: FastifyRequest, options: { admin: boolean }): Caller {
    const token = accessTokenOf(request)
    if (token === undefined) return GUEST
    if (options.admin && bearerToken(request) === token && timingSafeEqual(digest(token), this.#adminDigest)) return ADMIN
    const claims = this.#o.verifyAccessToken(token)
    return { kind: 'buyer', buyerId: claims.sub, username: claims.name }
  }

  /** Owner, receipt holder or admin: anyone else is told the order does not exist. */
  mayAccess (caller: Caller, order: { orderId: string, userId: string | null }, receipt: string | undefined): boolean {
    if (caller.kind === 'admin') return true
    if (caller.kind === 'buyer' && order.userId === caller.buyerId) return true
    return receipt !== undefined && this.#o.receipts.matches(order.orderId, receipt)
  }

  receiptFor (orderId: string): string {
    return this.#o.receipts.issue(orderId)
  }
}
