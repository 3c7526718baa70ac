import t from 'tap'
import Fastify from 'fastify'
import { createSigner } from 'fast-jwt'
import {
  LOCAL_ADMIN_TOKEN, createAccessTokenSigner, createOperatorAuth, createOperatorTokenSigner, operatorOf, resolveAdminToken
} from '../src/auth/index.ts'
import { AppError, ErrorCode } from '../src/contracts/errors.ts'

// Operators' credentials, checked by one function every service uses: ADMIN_TOKEN's production policy,
// operator tokens and their roles, and what an admin hook lets through.

const SECRET = 'operators-unit-test-secret-of-enough-length'
const ADMIN_TOKEN = 'operators-unit-test-admin-token'

t.test('production refuses a placeholder or short admin token, naming ADMIN_TOKEN; accepts the local value with a warning', async (t) => {
  for (const token of ['change-me-admin-token', 'CHANGE-ME', 'admin-token', 'password', 'x'.repeat(23)]) {
    t.throws(() => resolveAdminToken({ NODE_ENV: 'production', ADMIN_TOKEN: token }),
      { name: 'ConfigError', message: /ADMIN_TOKEN/ }, `${JSON.stringify(token)} refused`)
  }
  const strong = 'a-real-admin-token-of-enough-length-0123'
  t.same(resolveAdminToken({ NODE_ENV: 'production', ADMIN_TOKEN: strong }), { token: strong, warning: undefined })
  const local = resolveAdminToken({ NODE_ENV: 'production', ADMIN_TOKEN: LOCAL_ADMIN_TOKEN })
  t.equal(local.token, LOCAL_ADMIN_TOKEN)
  t.match(local.warning, /local-only/, 'the shipped local value works, with a warning')
  t.same(resolveAdminToken({ NODE_ENV: 'development', ADMIN_TOKEN: 'change-me-admin-token' }),
    { token: 'change-me-admin-token', warning: undefined }, 'development keeps whatever the schema accepts')
})

t.test('an operator token names its operator and role; the admin token is the break-glass admin; nothing else is an operator', async (t) => {
  const auth = createOperatorAuth({ adminToken: ADMIN_TOKEN, secret: SECRET })
  const sign = createOperatorTokenSigner(SECRET)
  t.same(auth.fromToken(ADMIN_TOKEN), { actor: 'admin-token', role: 'admin', operatorId: null })
  t.same(auth.fromToken(sign({ sub: '7', name: 'ops.lead', role: 'viewer' })), { actor: 'operator:ops.lead', role: 'viewer', operatorId: '7' })
  t.same(auth.fromToken(sign({ sub: '8', name: 'boss', role: 'admin' })), { actor: 'operator:boss', role: 'admin', operatorId: '8' })
  const refused: Array<[string, string]> = [
    ['a buyer\'s access token', createAccessTokenSigner(SECRET)({ id: '7', username: 'ops.lead' })],
    ['another secret\'s operator token', createOperatorTokenSigner('another-secret-of-enough-length-000000')({ sub: '7', name: 'x', role: 'admin' })],
    ['an expired operator token', createOperatorTokenSigner(SECRET, -60)({ sub: '7', name: 'x', role: 'admin' })],
    ['a role that does not exist', sign({ sub: '7', name: 'x', role: 'root' as 'admin' })],
    ['alg none', createSigner({ algorithm: 'none', aud: 'flash-sale/admin', iss: 'flash-sale/catalog' })({ sub: '7', name: 'x', role: 'admin' })],
    ['a wrong admin token', `${ADMIN_TOKEN}x`],
    ['garbage', 'a.b.c']
  ]
  for (const [what, token] of refused) t.equal(auth.fromToken(token), null, `${what}: no operator`)
})

t.test('admin hooks: 401 without a bearer, 403 FORBIDDEN for one that names no operator, 403 OPERATOR_READ_ONLY for a viewer on a write', async (t) => {
  const auth = createOperatorAuth({ adminToken: ADMIN_TOKEN, secret: SECRET })
  const sign = createOperatorTokenSigner(SECRET)
  const app = Fastify()
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof AppError) return reply.code(error.statusCode).send({ code: error.code })
    throw error
  })
  app.get('/read', { preHandler: auth.require('read') }, async (request) => operatorOf(request))
  app.post('/write', { preHandler: auth.require('write') }, async (request) => operatorOf(request))
  t.teardown(() => app.close())
  const call = async (method: 'GET' | 'POST', url: string, token?: string) => {
    const res = await app.inject({ method, url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
    return { status: res.statusCode, body: res.json() }
  }
  const viewer = sign({ sub: '1', name: 'viewer1', role: 'viewer' })
  const admin = sign({ sub: '2', name: 'admin1', role: 'admin' })
  t.same(await call('GET', '/read'), { status: 401, body: { code: ErrorCode.UNAUTHORIZED } })
  t.same(await call('GET', '/read', 'nope'), { status: 403, body: { code: ErrorCode.FORBIDDEN } })
  t.same(await call('GET', '/read', viewer), { status: 200, body: { actor: 'operator:viewer1', role: 'viewer', operatorId: '1' } })
  t.same(await call('POST', '/write', viewer), { status: 403, body: { code: ErrorCode.OPERATOR_READ_ONLY } })
  t.same(await call('POST', '/write', admin), { status: 200, body: { actor: 'operator:admin1', role: 'admin', operatorId: '2' } })
  t.same(await call('POST', '/write', ADMIN_TOKEN), { status: 200, body: { actor: 'admin-token', role: 'admin', operatorId: null } })
})
