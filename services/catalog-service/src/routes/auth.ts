import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  ACCESS_COOKIE, ACCESS_COOKIE_PATH, REFRESH_COOKIE, REFRESH_COOKIE_PATH, REFRESH_TOKEN_TTL_SECONDS,
  ErrorResponse, accessTokenOf, buyerSecurity, unauthenticated, type AccessClaims
} from '@flash/common'
import type { Accounts, Session } from '../buyers/accounts.ts'
import { BuyerView, Challenge, Credentials, PasswordChange, Registration, SessionView } from '../buyers/schemas.ts'
import type { SignupGuard } from '../buyers/signup-guard.ts'

export interface AuthRouteOptions {
  accounts: Accounts
  verifyAccessToken: (token: string) => AccessClaims
  /** per client address, for register and login (in process: they cost a scrypt hash each) */
  rateLimit: { max: number, timeWindow: number }
  /** proof of work and a per-address limit in front of sign-up (both off by default) */
  signup: SignupGuard
}

const tags = ['auth']
const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse }

const view = (session: Session) => ({
  buyer: { id: session.buyer.id, username: session.buyer.username, createdAt: session.buyer.createdAt },
  accessToken: session.accessToken,
  tokenType: 'Bearer' as const,
  expiresIn: session.expiresIn
})

// Both cookies httpOnly (no script reads them) and SameSite=Strict (no other site's page sends them,
// so no CSRF); Secure whenever the request came over https (nginx's X-Forwarded-Proto).
function setSessionCookies (request: FastifyRequest, reply: FastifyReply, session: Session): void {
  const common = { httpOnly: true, sameSite: 'strict' as const, secure: request.protocol === 'https', maxAge: REFRESH_TOKEN_TTL_SECONDS }
  void reply.setCookie(ACCESS_COOKIE, session.accessToken, { ...common, path: ACCESS_COOKIE_PATH })
  void reply.setCookie(REFRESH_COOKIE, session.refreshToken, { ...common, path: REFRESH_COOKIE_PATH })
}

function clearSessionCookies (reply: FastifyReply): void {
  void reply.clearCookie(ACCESS_COOKIE, { path: ACCESS_COOKIE_PATH, httpOnly: true, sameSite: 'strict' })
  void reply.clearCookie(REFRESH_COOKIE, { path: REFRESH_COOKIE_PATH, httpOnly: true, sameSite: 'strict' })
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, { accounts, verifyAccessToken, rateLimit, signup }) => {
  const claimsOf = (request: FastifyRequest): AccessClaims => {
    const token = accessTokenOf(request)
    if (token === undefined) throw unauthenticated('sign in first (no session)')
    return verifyAccessToken(token)
  }

  app.get('/auth/challenge', {
    config: { rateLimit },
    schema: { tags, summary: 'A proof-of-work challenge for sign-up (when the operator asks for one: bits > 0)', response: { 200: Challenge, ...errors } }
  }, async () => {
    const issued = signup.challenge()
    return { ...issued, expiresAt: new Date(issued.expiresAt).toISOString() }
  })

  app.post('/auth/register', {
    config: { rateLimit },
    schema: { tags, summary: 'Create a buyer account and sign it in', body: Registration, response: { 201: SessionView, ...errors } }
  }, async (request, reply) => {
    await signup.admit(request.ip, request.body.proof)
    const session = await accounts.register(request.body.username, request.body.password)
    if (request.body.cookies !== false) setSessionCookies(request, reply, session)
    return reply.code(201).send(view(session))
  })

  app.post('/auth/login', {
    config: { rateLimit },
    schema: {
      tags,
      summary: 'Sign in: an access token (and, for browsers, httpOnly session cookies)',
      description: 'A wrong password and an unknown username get the same 401 INVALID_CREDENTIALS. Too many failures for one username answer 429 until the lockout window ends.',
      body: Credentials,
      response: { 200: SessionView, ...errors }
    }
  }, async (request, reply) => {
    const session = await accounts.login(request.body.username, request.body.password)
    if (request.body.cookies !== false) setSessionCookies(request, reply, session)
    return view(session)
  })

  app.post('/auth/refresh', {
    schema: {
      tags,
      summary: 'A new access token for the refresh cookie; the refresh token is rotated (single use)',
      security: [{ refreshCookie: [] }],
      response: { 200: SessionView, ...errors }
    }
  }, async (request, reply) => {
    try {
      const session = await accounts.refresh(request.cookies[REFRESH_COOKIE])
      setSessionCookies(request, reply, session)
      return view(session)
    } catch (error) {
      clearSessionCookies(reply)
      throw error
    }
  })

  app.post('/auth/logout', {
    schema: {
      tags,
      summary: 'Sign out: revokes the refresh token and clears the cookies',
      description: 'An access token already handed out stays valid until it expires (minutes): the gateway verifies tokens without a database call.',
      response: { 204: { type: 'null' }, ...errors }
    }
  }, async (request, reply) => {
    await accounts.logout(request.cookies[REFRESH_COOKIE])
    clearSessionCookies(reply)
    return reply.code(204).send()
  })

  app.get('/auth/me', {
    schema: { tags, summary: 'The signed-in buyer', security: buyerSecurity, response: { 200: BuyerView, ...errors } }
  }, async (request) => {
    const buyer = await accounts.me(claimsOf(request).sub)
    return { id: buyer.id, username: buyer.username, createdAt: buyer.createdAt }
  })

  app.post('/auth/password', {
    config: { rateLimit },
    schema: {
      tags,
      summary: 'Change the password: every other session of the buyer is revoked',
      security: buyerSecurity,
      body: PasswordChange,
      response: { 200: SessionView, ...errors }
    }
  }, async (request, reply) => {
    const claims = claimsOf(request)
    const session = await accounts.changePassword(claims.sub, request.body.currentPassword, request.body.newPassword)
    setSessionCookies(request, reply, session)
    return view(session)
  })
}
