import type { FastifyRequest } from 'fastify'
import { ACCESS_COOKIE, type AccessClaims } from './tokens.ts'

// Where a request's access token comes from: `Authorization: Bearer <jwt>` (API clients, the bench,
// the simulator) or the httpOnly access cookie (the browser). The header wins when both are present.

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

export function bearerToken (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (header === undefined || header === '') return undefined
  return BEARER.exec(header)?.[1] ?? ''
}

export function accessTokenOf (request: FastifyRequest): string | undefined {
  const bearer = bearerToken(request)
  if (bearer !== undefined) return bearer
  const cookies = (request as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies
  const value = cookies?.[ACCESS_COOKIE]
  return value === undefined || value === '' ? undefined : value
}

export type { AccessClaims }

/** OpenAPI security requirement: a signed-in buyer, by bearer token or the access cookie */
export const buyerSecurity: Array<Record<string, string[]>> = [{ buyerToken: [] }, { buyerCookie: [] }]
