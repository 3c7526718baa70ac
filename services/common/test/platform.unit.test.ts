import t from 'tap'
import { Type } from '@sinclair/typebox'
import { createPlatformApp, rememberedTrust, type App } from '../src/platform/app.ts'
import { requireAdmin } from '../src/platform/admin.ts'
import { AppError, ErrorCode } from '../src/contracts/errors.ts'

async function buildTestApp (): Promise<App> {
  const app = await createPlatformApp({ service: 'platform-test', description: 'test', logLevel: 'silent', bodyLimit: 1024 })
  app.readiness.set('always', async () => {})
  app.post('/things', {
    schema: {
      body: Type.Object({ name: Type.String({ minLength: 1 }), count: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
      response: { 201: Type.Object({ name: Type.String(), count: Type.Integer() }) }
    }
  }, async (request, reply) => reply.code(201).send(request.body))
  app.get('/things/:id', { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } }, async (request) => {
    if (request.params.id === 404) throw new AppError(404, ErrorCode.PRODUCT_NOT_FOUND, 'no such thing', { details: { id: 404 } })
    return { id: request.params.id }
  })
  app.get('/admin', { preHandler: requireAdmin('secret-admin-token') }, async () => ({ ok: true }))
  return app
}

t.test('the platform answers health, readiness, metrics and OpenAPI', async (t) => {
  const app = await buildTestApp()
  t.teardown(() => app.close())
  t.same((await app.inject('/health/live')).json(), { status: 'ok' })
  const ready = await app.inject('/health/ready')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok', checks: { always: 'ok' } })
  app.readiness.set('broken', async () => { throw new Error('database down') })
  const notReady = await app.inject('/health/ready')
  t.equal(notReady.statusCode, 503)
  t.equal(notReady.json().checks.broken, 'error: database down')
  await app.inject('/things/1')
  const metrics = await app.inject('/metrics')
  t.match(metrics.body, /http_request_duration_seconds_count\{[^}]*route="\/things\/:id"/)
  t.match(metrics.body, /process_cpu_user_seconds_total/)
  const docs = (await app.inject('/docs/json')).json()
  t.ok(docs.paths['/things'], 'routes appear in the OpenAPI document')
  t.equal((await app.inject('/docs')).statusCode < 400, true, 'Swagger UI is served')
})

t.test('bad input gets a 400 that names the field', async (t) => {
  const app = await buildTestApp()
  t.teardown(() => app.close())
  const cases: Array<[unknown, RegExp]> = [
    [{ name: 'a' }, /body must have required property 'count'/],
    [{ name: 'a', count: 0 }, /body\/count must be >= 1/],
    [{ name: 'a', count: '5' }, /body\/count must be integer/],
    [{ name: 'a', count: 1.5 }, /body\/count must be integer/],
    [{ name: 'a', count: 1, extra: true }, /body must NOT have additional property 'extra'/]
  ]
  for (const [payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/things', payload: payload as object })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.match(res.json(), { statusCode: 400, code: ErrorCode.VALIDATION_FAILED, error: 'Bad Request', message })
  }
  const params = await app.inject('/things/abc')
  t.match(params.json(), { statusCode: 400, code: ErrorCode.VALIDATION_FAILED, message: /params\/id/ })
})

t.test('malformed, oversized and mistyped bodies get stable codes', async (t) => {
  const app = await buildTestApp()
  t.teardown(() => app.close())
  const json = { 'content-type': 'application/json' }
  const malformed = await app.inject({ method: 'POST', url: '/things', headers: json, payload: '{"name":' })
  t.match(malformed.json(), { statusCode: 400, code: ErrorCode.INVALID_JSON })
  const big = await app.inject({ method: 'POST', url: '/things', headers: json, payload: JSON.stringify({ name: 'x'.repeat(5000), count: 1 }) })
  t.match(big.json(), { statusCode: 413, code: ErrorCode.BODY_TOO_LARGE })
  const text = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'text/plain' }, payload: 'hi' })
  t.match(text.json(), { statusCode: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE })
  const missing = await app.inject('/nowhere')
  t.match(missing.json(), { statusCode: 404, code: ErrorCode.NOT_FOUND, error: 'Not Found' })
})

t.test('domain errors keep their code and details; request ids travel', async (t) => {
  const app = await buildTestApp()
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/things/404', headers: { 'x-request-id': 'trace-123' } })
  t.same(res.json(), { id: 404, statusCode: 404, code: 'PRODUCT_NOT_FOUND', error: 'Not Found', message: 'no such thing' })
  t.equal(res.headers['x-request-id'], 'trace-123')
  const generated = await app.inject({ url: '/things/1', headers: { 'x-request-id': 'bad id with spaces' } })
  t.match(generated.headers['x-request-id'], /^[0-9a-f]{8}-[0-9a-z]+$/, 'an unusable request id is replaced by one made here (process prefix, counter)')
  const next = await app.inject({ url: '/things/1' })
  t.not(next.headers['x-request-id'], generated.headers['x-request-id'], 'each request gets its own')
})

t.test('admin routes need the bearer token: 401 without, 403 wrong', async (t) => {
  const app = await buildTestApp()
  t.teardown(() => app.close())
  t.match((await app.inject('/admin')).json(), { statusCode: 401, code: ErrorCode.UNAUTHORIZED })
  t.match((await app.inject({ url: '/admin', headers: { authorization: 'Bearer nope' } })).json(), { statusCode: 403, code: ErrorCode.FORBIDDEN })
  t.same((await app.inject({ url: '/admin', headers: { authorization: 'Bearer secret-admin-token' } })).json(), { ok: true })
})

t.test('while closing, readiness answers 503 so load balancers stop sending', async (t) => {
  const app = await buildTestApp()
  let during: number | undefined
  app.addHook('onClose', async () => { during = (await app.inject('/health/ready')).statusCode })
  await app.close()
  t.not(during, 200)
})

t.test('a dependency that is down answers 503 with Retry-After, not 500', async (t) => {
  const app = await buildTestApp()
  t.teardown(() => app.close())
  app.get('/redis-down', async () => { throw new Error('Connection is closed.') })
  app.get('/mysql-down', async () => { throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' }) })
  app.get('/bug', async () => { throw new TypeError('undefined is not a function') })
  for (const url of ['/redis-down', '/mysql-down']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 503, url)
    t.equal(res.headers['retry-after'], '1')
    t.match(res.json(), { code: ErrorCode.SERVICE_UNAVAILABLE })
  }
  const bug = await app.inject('/bug')
  t.same(bug.json(), { statusCode: 500, code: ErrorCode.INTERNAL_ERROR, error: 'Internal Server Error', message: 'internal error' })
})

t.test('a proxy is trusted by its address however often it is asked, and a buyer never is', async (t) => {
  const trust = rememberedTrust(['loopback', 'uniquelocal'])
  for (let i = 0; i < 3; i++) {
    t.equal(trust('127.0.0.1', 0), true, 'loopback is a trusted proxy')
    t.equal(trust('::1', 0), true)
    t.equal(trust('fd00::5', 1), true, 'a unique-local address is trusted')
    t.equal(trust('198.18.0.7', 1), false, 'a public address is a client, not a proxy')
  }
  // More distinct addresses than it remembers: the answers stay right after it starts again.
  let trustedBuyers = 0
  for (let i = 0; i < 10_050; i++) if (trust(`198.19.${i >> 8}.${i & 255}`, 1)) trustedBuyers++
  t.equal(trustedBuyers, 0, 'no buyer address is trusted')
  t.equal(trust('127.0.0.1', 0), true)

  const app = await createPlatformApp({ service: 'platform-test', description: 'test', logLevel: 'silent', trustedProxies: 'loopback' })
  t.teardown(() => app.close())
  app.get('/ip', async (request) => ({ ip: request.ip }))
  t.same((await app.inject({ url: '/ip', headers: { 'x-forwarded-for': '198.18.0.9' } })).json(), { ip: '198.18.0.9' }, 'behind a trusted proxy the buyer is the forwarded address')
  t.same((await app.inject({ url: '/ip', remoteAddress: '203.0.113.5', headers: { 'x-forwarded-for': '198.18.0.9' } })).json(), { ip: '203.0.113.5' }, 'a direct client cannot pick its address')
})
