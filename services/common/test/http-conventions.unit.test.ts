import t, { type Test } from 'tap'
import { Type } from '@sinclair/typebox'
import { createPlatformApp, type App } from '@flash/common'

// The HTTP conventions every service gets from the platform (docs/ARCHITECTURE.md §5): 405 + Allow for
// a known path asked with another method, one rule for unknown query parameters, and an OpenAPI
// document that matches the server whether it is fetched directly or through nginx.
// A platform app with routes shaped like the services' own; it needs no database.

/** bodies the POST /things handler received */
const seen: unknown[] = []

async function platformApp (t: Test, docsServerUrl?: string): Promise<App> {
  const app = await createPlatformApp({ service: 'conventions-test', description: 'test', logLevel: 'silent', docsServerUrl })
  app.get('/things', {
    schema: { querystring: Type.Object({ page: Type.Integer({ minimum: 1, default: 1 }), name: Type.Optional(Type.String()) }) }
  }, async (request) => ({ query: request.query }))
  app.post('/things', { schema: { body: Type.Object({ n: Type.Integer() }, { additionalProperties: false }) } }, async (request) => {
    seen.push(request.body)
    return { ok: true }
  })
  app.get('/things/:id', { schema: { params: Type.Object({ id: Type.Integer() }) } }, async (request) => ({ id: request.params.id }))
  app.delete('/things/:id', { schema: { params: Type.Object({ id: Type.Integer() }) } }, async () => ({ deleted: true }))
  app.post('/sweep', {
    schema: { body: Type.Union([Type.Object({ ids: Type.Array(Type.Integer()) }, { additionalProperties: false }), Type.Null()]) }
  }, async (request) => ({ body: request.body ?? null }))
  app.get('/undocumented', { schema: { hide: true } }, async (request) => ({ query: request.query }))
  t.teardown(() => app.close())
  await app.ready()
  return app
}

t.test('a known path asked with another method: 405 with Allow, the error shape, and no handler runs', async (t) => {
  const app = await platformApp(t)
  const put = await app.inject({ method: 'PUT', url: '/things', payload: { n: 1 } })
  t.equal(put.statusCode, 405)
  t.equal(put.headers.allow, 'GET, HEAD, POST')
  t.match(put.json(), { statusCode: 405, code: 'METHOD_NOT_ALLOWED', error: 'Method Not Allowed', message: /PUT is not allowed.*GET, HEAD, POST/ })

  const patch = await app.inject({ method: 'PATCH', url: '/things/7?x=1' })
  t.equal(patch.statusCode, 405, 'path parameters and a query string are matched too')
  t.equal(patch.headers.allow, 'DELETE, GET, HEAD')

  // Fastify checks a QUERY request's Content-Type before routing; the answer is still 405.
  const query = await app.inject({ method: 'QUERY', url: '/things' })
  t.equal(query.statusCode, 405)
  t.equal(query.headers.allow, 'GET, HEAD, POST')

  const unknown = await app.inject({ method: 'PUT', url: '/nothing' })
  t.equal(unknown.statusCode, 404, 'an unknown path stays 404')
  t.equal(unknown.headers.allow, undefined)
  t.equal(unknown.json().code, 'NOT_FOUND')
  t.same(seen, [], 'no POST handler ran')
})

t.test('unknown query parameters are refused 400 naming the parameter; defaults fill what is left out', async (t) => {
  const app = await platformApp(t)
  const extra = await app.inject('/things?page=2&colour=red')
  t.equal(extra.statusCode, 400)
  t.match(extra.json(), { code: 'VALIDATION_FAILED', message: "querystring must NOT have additional property 'colour'" })

  const none = await app.inject('/things/3?debug=1')
  t.equal(none.statusCode, 400, 'a route without a querystring schema accepts none')
  t.match(none.json().message, /'debug'/)

  t.same((await app.inject('/things')).json(), { query: { page: 1 } }, 'page defaults')
  t.same((await app.inject('/things?name=a')).json(), { query: { page: 1, name: 'a' } })
  t.equal((await app.inject('/undocumented?anything=1')).statusCode, 200, 'undocumented (hidden) routes are left alone')
})

t.test('the OpenAPI document fetched directly: no servers entry, every route, defaults and optional bodies not required', async (t) => {
  const app = await platformApp(t, '/api')
  const doc = (await app.inject('/docs/json')).json()
  t.same(doc.servers, [])
  t.ok(doc.paths['/health/ready'], 'health routes are documented where they are served')
  const params = doc.paths['/things'].get.parameters as Array<{ name: string, required: boolean }>
  t.same(params.map((p) => [p.name, p.required]), [['page', false], ['name', false]], 'a defaulted parameter is not required')
  t.equal(doc.paths['/sweep'].post.requestBody.required, false, 'a body that may be absent is not required')
  t.equal(doc.paths['/things'].post.requestBody.required, true, 'a body that must be there stays required')
  t.same(doc.paths['/things/{id}'].get.parameters.map((p: { in: string }) => p.in), ['path'], 'no query parameters invented')

  // The server agrees: no body at all is accepted where the document says so.
  const sweep = await app.inject({ method: 'POST', url: '/sweep' })
  t.equal(sweep.statusCode, 200)
  t.same(sweep.json(), { body: null })
})

t.test('the OpenAPI document fetched through nginx: the /api server, and no route nginx does not route', async (t) => {
  const app = await platformApp(t, '/api')
  const doc = (await app.inject({ url: '/docs/json', headers: { 'x-forwarded-prefix': '/docs/conventions' } })).json()
  t.same(doc.servers, [{ url: '/api', description: 'through nginx' }])
  t.same(Object.keys(doc.paths).sort(), ['/sweep', '/things', '/things/{id}'])

  const direct = (await app.inject('/docs/json')).json()
  t.ok(direct.paths['/health/live'], 'a direct fetch after a proxied one still sees everything (no shared mutation)')

  const processorLike = await platformApp(t)
  const proxied = (await processorLike.inject({ url: '/docs/json', headers: { 'x-forwarded-prefix': '/docs/processor' } })).json()
  t.same(proxied.servers, [])
  t.same(proxied.paths, {}, 'a service nginx routes no API of documents none behind it')
})
