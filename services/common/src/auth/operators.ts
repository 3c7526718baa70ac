import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { AppError, ErrorCode } from '../contracts/errors.ts'
import type { OperatorRole } from '../contracts/schemas.ts'
import { ConfigError } from '../platform/config.ts'
import { bearerToken } from './session.ts'
import { TOKEN_ALGORITHM, TOKEN_ISSUER } from './tokens.ts'

// Operators: who may use the admin routes of every service, and with which role (docs/ARCHITECTURE.md
// §5, "Operators"). Two ways in, both an `Authorization: Bearer` header:
// - an operator's access token, signed by the catalog at `POST /auth/operators/login` (an account in
//   MySQL `operators`, password hashed like a buyer's), carrying the role: `admin` may do everything,
//   `viewer` only the read-only admin routes;
// - ADMIN_TOKEN, the break-glass credential: an admin, named `admin-token` in the audit log. It is how
//   the first operator comes to exist in a fresh deployment (POST /admin/operators), and what scripts,
//   the bench and the tests use.
// Every service verifies both with the one function below, per request, with no database call.

/** who is acting: `actor` is what the audit log records (`operator:<username>` or `admin-token`) */
export interface Operator {
  actor: string
  role: OperatorRole
  /** the operator's id; null for the admin token */
  operatorId: string | null
}

/** `aud` of operator tokens: a buyer's token (`flash-sale/shop`) is never an operator's, nor the other way round */
export const OPERATOR_TOKEN_AUDIENCE = 'flash-sale/admin'
/** an operator's session: a role change or a removed account takes effect within this */
export const OPERATOR_TOKEN_TTL_SECONDS = 1800
export const ADMIN_TOKEN_ACTOR = 'admin-token'
const OPERATOR_KEY_LABEL = 'flash-sale/v1/operator-token'
const MAX_TOKEN_LENGTH = 2048

export const operatorActor = (username: string): string => `operator:${username}`

// --- ADMIN_TOKEN in production ---------------------------------------------------------------------

export const MIN_ADMIN_TOKEN_LENGTH = 24
/** the value .env.example ships: accepted, with a warning */
export const LOCAL_ADMIN_TOKEN = 'local-only-flash-sale-admin-token-replace-me-in-any-real-deployment'
/** placeholders a copied config may still contain: refused in production */
const PLACEHOLDERS = new Set([
  'change-me-admin-token', 'change-me', 'changeme', 'admin', 'admin-token', 'administrator', 'password', 'secret', 'token'
])

export interface AdminTokenCheck { token: string, warning: string | undefined }

/**
 * The ADMIN_TOKEN a service may start with, or a ConfigError naming ADMIN_TOKEN. The same policy as
 * AUTH_JWT_SECRET (secret.ts): with NODE_ENV=production a known placeholder or fewer than 24
 * characters stops the start (every service that accepts the token: catalog, gateway, payment); the
 * local-only value of .env.example starts with a warning; development and test take anything.
 */
export function resolveAdminToken (config: { NODE_ENV: string, ADMIN_TOKEN: string }): AdminTokenCheck {
  const token = config.ADMIN_TOKEN
  if (config.NODE_ENV !== 'production') return { token, warning: undefined }
  if (PLACEHOLDERS.has(token.trim().toLowerCase())) {
    throw new ConfigError(['ADMIN_TOKEN is a placeholder: set a random token of at least 24 characters (e.g. `openssl rand -base64 32`)'])
  }
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError([`ADMIN_TOKEN is too short (${token.length} characters): at least ${MIN_ADMIN_TOKEN_LENGTH} are required with NODE_ENV=production`])
  }
  return {
    token,
    warning: token === LOCAL_ADMIN_TOKEN
      ? 'ADMIN_TOKEN is the local-only value from .env.example: fine on one machine, set your own for a real deployment'
      : undefined
  }
}

// --- operator tokens -------------------------------------------------------------------------------

const operatorKey = (secret: string): Buffer => createHmac('sha256', secret).update(OPERATOR_KEY_LABEL).digest()

export interface OperatorClaims { sub: string, name: string, role: OperatorRole }

/** Signs operator access tokens (the catalog, at operator sign-in). */
export function createOperatorTokenSigner (secret: string, ttlSeconds = OPERATOR_TOKEN_TTL_SECONDS): (claims: OperatorClaims) => string {
  const sign = createSigner({ key: operatorKey(secret), algorithm: TOKEN_ALGORITHM, iss: TOKEN_ISSUER, aud: OPERATOR_TOKEN_AUDIENCE, expiresIn: ttlSeconds * 1000 })
  return (claims) => sign({ sub: claims.sub, name: claims.name, role: claims.role })
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()
const isRole = (value: unknown): value is OperatorRole => value === 'admin' || value === 'viewer'

/** What an admin route needs: `read` lets a viewer in, `write` only an admin. */
export type AdminAccess = 'read' | 'write'

export interface OperatorAuth {
  /** The operator a bearer token names (the admin token or a valid operator token), or null. */
  fromToken: (token: string) => Operator | null
  /** The operator of an admin request: 401 UNAUTHORIZED without a bearer, 403 FORBIDDEN for one that names none. */
  identify: (request: FastifyRequest) => Operator
  /** 403 OPERATOR_READ_ONLY unless the operator may write */
  assertMay: (operator: Operator, access: AdminAccess) => void
  /** preHandler/onRequest hook for admin routes; the operator is then `operatorOf(request)` */
  require: (access: AdminAccess) => preHandlerAsyncHookHandler
}

const identified = new WeakMap<FastifyRequest, Operator>()

/** The operator an admin hook identified for this request (undefined on routes without one). */
export const operatorOf = (request: FastifyRequest): Operator | undefined => identified.get(request)

export const operatorReadOnly = (operator: Operator): AppError =>
  new AppError(403, ErrorCode.OPERATOR_READ_ONLY, `${operator.actor} has the role viewer: admin routes that change something need the role admin`)

/** The one check of admin credentials, shared by every service. */
export function createOperatorAuth (options: { adminToken: string, secret: string }): OperatorAuth {
  const adminDigest = digest(options.adminToken)
  const verify = createVerifier({
    key: operatorKey(options.secret),
    algorithms: [TOKEN_ALGORITHM],
    allowedIss: TOKEN_ISSUER,
    allowedAud: OPERATOR_TOKEN_AUDIENCE,
    requiredClaims: ['sub', 'exp', 'iss', 'aud'],
    clockTolerance: 1000
  })
  const breakGlass: Operator = { actor: ADMIN_TOKEN_ACTOR, role: 'admin', operatorId: null }

  const fromToken = (token: string): Operator | null => {
    // Compare digests in constant time: the token's length and prefix do not leak through timing.
    if (timingSafeEqual(digest(token), adminDigest)) return breakGlass
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) return null
    try {
      const claims = verify(token) as Partial<OperatorClaims>
      if (typeof claims.sub !== 'string' || typeof claims.name !== 'string' || !isRole(claims.role)) return null
      return { actor: operatorActor(claims.name), role: claims.role, operatorId: claims.sub }
    } catch {
      return null
    }
  }

  const identify = (request: FastifyRequest): Operator => {
    const token = bearerToken(request)
    if (token === undefined) {
      throw new AppError(401, ErrorCode.UNAUTHORIZED, 'missing Authorization: Bearer <operator token or admin token>',
        { headers: { 'www-authenticate': 'Bearer' } })
    }
    const operator = token === '' ? null : fromToken(token)
    if (operator === null) throw new AppError(403, ErrorCode.FORBIDDEN, 'the admin credential is not valid (unknown, expired or not an operator\'s)')
    return operator
  }

  const assertMay = (operator: Operator, access: AdminAccess): void => {
    if (access === 'write' && operator.role !== 'admin') throw operatorReadOnly(operator)
  }

  return {
    fromToken,
    identify,
    assertMay,
    require: (access) => async (request) => {
      const operator = identify(request)
      identified.set(request, operator)
      assertMay(operator, access)
    }
  }
}
