import type { FastifyRequest } from 'fastify'
import type { AccessClaims, Receipts } from './tokens.ts'
import { accessTokenOf, bearerToken } from './session.ts'
import type { Operator, OperatorAuth } from './operators.ts'

// Who is asking. The gateway and the payment-service verify the buyer's signed access token per request,
// with no database or Redis call (a few microseconds of HMAC-SHA256); accounts and passwords live in
// the catalog. Operators read every order with the bearer they use on catalog admin routes (an
// operator token or ADMIN_TOKEN, operators.ts); only the role admin may withdraw someone's order.

export type Caller =
  | { kind: 'admin', operator: Operator }
  | { kind: 'buyer', buyerId: string, username: string }
  | { kind: 'guest' }

export interface CallerOptions {
  operators: OperatorAuth
  verifyAccessToken: (token: string) => AccessClaims
  receipts: Receipts
}

const GUEST: Caller = { kind: 'guest' }

export class Callers {
  readonly #o: CallerOptions

  constructor (options: CallerOptions) {
    this.#o = options
  }

  /**
   * The caller of a request. No token: a guest. A token that is not valid (forged, `alg: none`,
   * expired, wrong issuer…): 401 UNAUTHENTICATED, never a silent downgrade to guest — a buyer whose
   * session lapsed must not place a guest order by accident. `admin`: whether an operator's bearer
   * counts here (reads and withdrawals; placing an order needs a buyer or nobody).
   */
  of (request: FastifyRequest, options: { admin: boolean }): Caller {
    const token = accessTokenOf(request)
    if (token === undefined) return GUEST
    if (options.admin && bearerToken(request) === token) {
      const operator = this.#o.operators.fromToken(token)
      if (operator !== null) return { kind: 'admin', operator }
    }
    const claims = this.#o.verifyAccessToken(token)
    return { kind: 'buyer', buyerId: claims.sub, username: claims.name }
  }

  /** A viewer may read everyone's orders but change none: 403 OPERATOR_READ_ONLY. */
  assertMayChange (caller: Caller): void {
    if (caller.kind === 'admin') this.#o.operators.assertMay(caller.operator, 'write')
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
