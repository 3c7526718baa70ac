import { createHmac, timingSafeEqual } from 'node:crypto'
import { createSigner, createVerifier, TokenError } from 'fast-jwt'
import { AppError, ErrorCode } from '../contracts/errors.ts'

// Buyer sessions, defined once for the catalog (which signs) and the gateway (which only
// verifies, per request, with no database or Redis call).
//
// One secret, AUTH_JWT_SECRET, is never used as a key itself: each use gets its own key derived with
// HMAC-SHA256 under its own label, so an access token's signature can never be replayed as an order
// receipt (or the other way round), and a new use never weakens an old one.

/** `iss` of every access token: the catalog, which owns buyer accounts */
export const TOKEN_ISSUER = 'flash-sale/catalog'
/** `aud` of every access token: the shop's APIs (catalog /auth/me and the order gateway) */
export const TOKEN_AUDIENCE = 'flash-sale/shop'
/** the only algorithm signed and accepted: `alg: none`, RS256 (key confusion) and the rest are refused */
export const TOKEN_ALGORITHM = 'HS256'
/** short-lived: a stolen access token is good for minutes; the refresh token is the revocable part */
export const ACCESS_TOKEN_TTL_SECONDS = 600
export const REFRESH_TOKEN_TTL_SECONDS = 14 * 86_400

/**
 * Browser cookies, both httpOnly + SameSite=Strict. The access cookie lives as long as the refresh
 * token (the JWT inside still expires after ACCESS_TOKEN_TTL_SECONDS): an expired token is then sent
 * and answered 401, so the browser refreshes instead of silently ordering as a guest.
 */
export const ACCESS_COOKIE = 'fs_access'
export const REFRESH_COOKIE = 'fs_refresh'
/** every API behind nginx's /api needs the access token */
export const ACCESS_COOKIE_PATH = '/api'
/** the refresh token goes only to /api/auth/* (refresh, logout), never to the order gateway */
export const REFRESH_COOKIE_PATH = '/api/auth'

/** what an access token says: `sub` is the buyer's id (a decimal string), `name` the username */
export interface AccessClaims {
  sub: string
  name: string
  iss: string
  aud: string
  iat: number
  exp: number
}

export interface Buyer {
  id: string
  username: string
}

const derive = (secret: string, label: string): Buffer => createHmac('sha256', secret).update(label).digest()
const JWT_KEY_LABEL = 'flash-sale/v1/access-token'
const RECEIPT_KEY_LABEL = 'flash-sale/v1/guest-order-receipt'

/** The HS256 key of access tokens (exported for tests that forge tokens around it, and the bench). */
export const accessTokenKey = (secret: string): Buffer => derive(secret, JWT_KEY_LABEL)

export interface SignerOptions {
  ttlSeconds?: number
  /** a fixed issue time in ms (tests: an already expired token); default the clock at signing */
  issuedAtMs?: number
}

/** Signs access tokens (the catalog at login/refresh; the bench mints its buyers' tokens the same way). */
export function createAccessTokenSigner (secret: string, options: SignerOptions = {}): (buyer: Buyer) => string {
  const sign = createSigner({
    key: accessTokenKey(secret),
    algorithm: TOKEN_ALGORITHM,
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    expiresIn: (options.ttlSeconds ?? ACCESS_TOKEN_TTL_SECONDS) * 1000,
    ...(options.issuedAtMs === undefined ? {} : { clockTimestamp: options.issuedAtMs })
  })
  return (buyer) => sign({ sub: buyer.id, name: buyer.username })
}

export const unauthenticated = (message: string): AppError =>
  new AppError(401, ErrorCode.UNAUTHENTICATED, message, { headers: { 'www-authenticate': 'Bearer' } })

/** Tokens longer than this are refused before any parsing (ours are ~250 bytes). */
const MAX_TOKEN_LENGTH = 2048

/**
 * Verifies an access token: HS256 only, signature, `exp` (no leeway beyond 1 s of clock skew),
 * `iss`, `aud`, and a `sub`. Throws 401 UNAUTHENTICATED whatever is wrong; the message says which,
 * which tells an attacker nothing they do not already know about their own token.
 */
export function createAccessTokenVerifier (secret: string): (token: string) => AccessClaims {
  const verify = createVerifier({
    key: accessTokenKey(secret),
    algorithms: [TOKEN_ALGORITHM],
    allowedIss: TOKEN_ISSUER,
    allowedAud: TOKEN_AUDIENCE,
    requiredClaims: ['sub', 'exp', 'iss', 'aud'],
    clockTolerance: 1000
  })
  return (token) => {
    if (token.length > MAX_TOKEN_LENGTH) throw unauthenticated('the access token is not valid')
    let claims: AccessClaims
    // fast-jwt's TokenError captures a stack trace (Error.captureStackTrace), which was a third of what
    // a refused token cost the gateway; a refused token is an everyday 401, not a bug to trace.
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      claims = verify(token) as AccessClaims
    } catch (error) {
      const code = error instanceof TokenError ? error.code : ''
      throw unauthenticated(code === TokenError.codes.expired
        ? 'the access token has expired: refresh it (POST /auth/refresh) or sign in again'
        : 'the access token is not valid')
    } finally {
      Error.stackTraceLimit = stackTraceLimit
    }
    if (typeof claims.sub !== 'string' || claims.sub === '' || typeof claims.name !== 'string') {
      throw unauthenticated('the access token is not valid')
    }
    return claims
  }
}

/**
 * Guest order receipts: base64url(HMAC-SHA256(receipt key, orderId)). Stateless — nothing is stored —
 * and only the server can make one, so holding it proves the holder got the order's 202.
 */
export interface Receipts {
  issue: (orderId: string) => string
  /** constant-time comparison */
  matches: (orderId: string, receipt: string) => boolean
}

export function createReceipts (secret: string): Receipts {
  const key = derive(secret, RECEIPT_KEY_LABEL)
  const mac = (orderId: string): Buffer => createHmac('sha256', key).update(orderId).digest()
  return {
    issue: (orderId) => mac(orderId).toString('base64url'),
    matches: (orderId, receipt) => {
      const given = Buffer.from(receipt, 'base64url')
      const expected = mac(orderId)
      return given.length === expected.length && timingSafeEqual(given, expected)
    }
  }
}
