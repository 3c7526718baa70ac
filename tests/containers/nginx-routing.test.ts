// deploy/nginx/nginx.conf.template, served by a real nginx in both of its renderings, in front of
// the services' real HTTP platform (createPlatformApp: Fastify, @fastify/swagger-ui at /docs):
//  - make local's (deploy/render.sh): every path reaches the right service with the right URI
//    through the fixed 127.0.0.1 upstream groups, and Swagger UI's own redirects keep the prefix;
//  - the Docker image's (its ENV + docker-compose.yml's environment): the targets are names that
//    nginx resolves per request through NGINX_RESOLVER. A DNS server of the test's own stands in
//    for Docker's: when a name moves to a new address (a recreated container) or gains a second one
//    (--scale), the running nginx follows within its 5 s cache, with no reload.
// The services run on loopback aliases (127.0.0.2, 127.0.0.3: all of 127/8 is loopback on Linux).
import t, { type Test } from 'tap'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'
import { request as httpRequest } from 'node:http'
import { chmodSync, mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, openSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dnsPacket from 'dns-packet'
import { createPlatformApp, sleep, type App } from '@flash/common'
import { ROOT, readCompose, environmentOf, parseDockerfile, parseEnvInstruction, buildOf } from './lib.ts'

const TEMPLATE = join(ROOT, 'deploy/nginx/nginx.conf.template')
const template = readFileSync(TEMPLATE, 'utf8')
const nginxService = readCompose().services.nginx!
const SERVICES = ['catalog', 'gateway', 'processor', 'payment'] as const
type Service = typeof SERVICES[number]
/** Each service's Swagger UI prefix under /docs/ (the payment-service's is plural, like its API). */
const DOCS: Record<Service, string> = { catalog: 'catalog', gateway: 'gateway', processor: 'processor', payment: 'payments' }

function freePort (host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A service as nginx sees it: the platform app (its /docs), answering any other path with what it received. */
async function startService (name: string, host: string, port: number): Promise<App & { seen: string[] }> {
  const app = await createPlatformApp({ service: name, description: 'nginx routing test', logLevel: 'silent' })
  const seen: string[] = []
  app.all('/*', async (request) => {
    seen.push(request.url)
    return { service: name, host, url: request.url }
  })
  // The live sale view's shape: one event at once, then the response stays open (an SSE stream).
  app.get('/admin/live', async (request, reply) => {
    seen.push(request.url)
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' })
    reply.raw.write(`event: point\ndata: ${JSON.stringify({ service: name, url: request.url })}\n\n`)
  })
  await app.listen({ host, port })
  return Object.assign(app, { seen })
}

/** A DNS server answering A queries from a table the test changes; every query is counted. */
function startDns (table: Map<string, string[]>): Promise<{ port: number, queries: string[], close: () => void }> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4')
    const queries: string[] = []
    socket.on('message', (message, remote) => {
      const query = dnsPacket.decode(message)
      const question = query.questions?.[0]
      if (!question) return
      queries.push(`${question.type} ${question.name}`)
      const addresses = question.type === 'A' ? table.get(question.name) ?? [] : []
      const reply = dnsPacket.encode({
        id: query.id,
        type: 'response',
        // rcode 3 (NXDOMAIN, the low bits of the flags) for a name the table does not hold
        flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (table.has(question.name) ? 0 : 3),
        questions: [question],
        answers: addresses.map((data) => ({ type: 'A' as const, name: question.name, ttl: 600, data }))
      })
      socket.send(reply, remote.port, remote.address)
    })
    socket.bind(0, '127.0.0.1', () => resolve({ port: socket.address().port, queries, close: () => socket.close() }))
  })
}

/** Renders the template with envsubst for the given variables, and starts nginx on it. */
async function startNginx (t: Test, vars: Record<string, string>, names: string[]): Promise<{ base: string, conf: string, log: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-routing-'))
  const port = await freePort()
  const root = join(dir, 'html')
  mkdirSync(root)
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>shop</title>')
  mkdirSync(join(dir, 'tmp'))
  // Run as root, nginx's workers are `nobody`: they must be able to write the product cache there.
  chmodSync(dir, 0o755)
  chmodSync(join(dir, 'tmp'), 0o777)
  const env = { ...vars, NGINX_PORT: String(port), NGINX_ROOT: root, NGINX_PID: join(dir, 'nginx.pid'), NGINX_TEMP_DIR: join(dir, 'tmp') }
  const conf = join(dir, 'nginx.conf')
  const list = [...names, 'NGINX_PORT', 'NGINX_ROOT', 'NGINX_PID', 'NGINX_TEMP_DIR'].map((n) => `\${${n}}`).join(' ')
  writeFileSync(conf, execFileSync('envsubst', [list], { input: template, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' }))
  // nginx opens /dev/stdout and /dev/stderr (the config logs there): give it a file, not Node's pipes.
  const log = join(dir, 'nginx.log')
  const fd = openSync(log, 'w')
  const nginx: ChildProcess = spawn('nginx', ['-e', 'stderr', '-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', fd, fd] })
  closeSync(fd)
  t.teardown(async () => {
    nginx.kill('SIGQUIT')
    await new Promise((resolve) => { if (nginx.exitCode !== null) resolve(null); else nginx.once('exit', resolve) })
    rmSync(dir, { recursive: true, force: true })
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try { await fetch(`${base}/index.html`); break } catch {
      if (i > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${readFileSync(log, 'utf8')}`)
      await sleep(100)
    }
  }
  return { base, conf, log }
}

const get = async (url: string) => {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try { json = JSON.parse(text) as Record<string, unknown> } catch { /* not JSON */ }
  return { status: res.status, location: res.headers.get('location'), json, text }
}

/** render.sh's variable list (the names make local substitutes). */
const localNames = (): string[] => [.../envsubst '([^']+)'/.exec(readFileSync(join(ROOT, 'deploy/nginx/render.sh'), 'utf8'))![1]!.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]!)

t.test('every proxied location goes through a target variable and strips its prefix itself', async (t) => {
  const passes = [...template.matchAll(/^\s*proxy_pass\s+([^;]+);/gm)].map((m) => m[1]!)
  t.ok(passes.length >= 8, `${passes.length} proxy_pass directives`)
  for (const pass of passes) t.match(pass, /^http:\/\/\$(catalog|gateway|processor|payment|api_owner)_target$/, `proxy_pass ${pass} names a target variable, no URI part`)
  for (const s of SERVICES) {
    t.match(template, new RegExp(`set \\$${s}_target \\$\\{${s.toUpperCase()}_TARGET\\};`), `$${s}_target is set from ${s.toUpperCase()}_TARGET`)
    t.match(template, new RegExp(`upstream ${s} \\{\\s*server \\$\\{${s.toUpperCase()}_UPSTREAM\\};`), `upstream group ${s} is ${s.toUpperCase()}_UPSTREAM`)
  }
  t.match(template, /resolver \$\{NGINX_RESOLVER\} valid=\d+s ipv6=off;/, 'the resolver is NGINX_RESOLVER, answers kept seconds')
})

t.test('make local: fixed upstream groups; the targets never need the resolver', async (t) => {
  const names = localNames()
  for (const n of ['CATALOG_TARGET', 'GATEWAY_TARGET', 'PROCESSOR_TARGET', 'PAYMENT_TARGET', 'PAYMENT_UPSTREAM', 'NGINX_RESOLVER']) t.ok(names.includes(n), `render.sh substitutes ${n}`)
  // What render.sh produces by default: each target is the name of an upstream group.
  const dir = mkdtempSync(join(tmpdir(), 'nginx-render-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NGINX_PID: join(dir, 'pid'), NGINX_TEMP_DIR: join(dir, 'tmp') }
  execFileSync('bash', [join(ROOT, 'deploy/nginx/render.sh'), join(dir, 'nginx.conf')], { env })
  const rendered = readFileSync(join(dir, 'nginx.conf'), 'utf8')
  for (const s of SERVICES) {
    t.match(rendered, new RegExp(`set \\$${s}_target ${s};`), `$${s}_target is the upstream group ${s}`)
    t.match(rendered, new RegExp(`upstream ${s} \\{\\s*server 127\\.0\\.0\\.1:\\d+;`), `group ${s} has a fixed 127.0.0.1 address`)
  }

  // Served: a real nginx in front of the four platform apps, on the ports the groups name.
  const ports = { catalog: await freePort(), gateway: await freePort(), processor: await freePort(), payment: await freePort() }
  const services = {} as Record<Service, App & { seen: string[] }>
  for (const s of SERVICES) services[s] = await startService(s, '127.0.0.1', ports[s])
  t.teardown(() => Promise.all(SERVICES.map((s) => services[s].close())))
  // A resolver address where nothing answers: a target that needed it would fail (502).
  const { base } = await startNginx(t, {
    CATALOG_UPSTREAM: `127.0.0.1:${ports.catalog}`, GATEWAY_UPSTREAM: `127.0.0.1:${ports.gateway}`, PROCESSOR_UPSTREAM: `127.0.0.1:${ports.processor}`,
    PAYMENT_UPSTREAM: `127.0.0.1:${ports.payment}`,
    CATALOG_TARGET: 'catalog', GATEWAY_TARGET: 'gateway', PROCESSOR_TARGET: 'processor', PAYMENT_TARGET: 'payment', NGINX_RESOLVER: `127.0.0.1:${await freePort()}`
  }, names)

  const routes: Array<[string, Service, string]> = [
    ['/api/products?x=1&y=%20z', 'catalog', '/products?x=1&y=%20z'],
    ['/api/products/7', 'catalog', '/products/7'],
    ['/api/admin/sync-stock', 'catalog', '/admin/sync-stock'],
    ['/api/auth/me', 'catalog', '/auth/me'],
    ['/api/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV?x=1', 'gateway', '/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV?x=1'],
    ['/api/payments', 'payment', '/payments'],
    ['/api/payments/config', 'payment', '/payments/config'],
    ['/api/payments/pi_123/sandbox-confirm?x=1', 'payment', '/payments/pi_123/sandbox-confirm?x=1'],
    ['/api/payments/webhook', 'payment', '/payments/webhook'],
    ['/api/rooms/7/status', 'gateway', '/rooms/7/status'],
    ['/docs/catalog/anything?q=1', 'catalog', '/docs/anything?q=1'],
    ['/docs/payments/anything?q=1', 'payment', '/docs/anything?q=1']
  ]
  for (const [path, service, upstreamUrl] of routes) {
    const res = await get(base + path)
    t.equal(res.status, 200, `${path} answers`)
    t.same([res.json.service, res.json.url], [service, upstreamUrl], `${path} -> ${service} ${upstreamUrl}`)
  }
  // The live view's stream: its first event arrives while the upstream response is still open.
  const abort = new AbortController()
  const stream = await fetch(`${base}/api/admin/live?productId=1`, { signal: abort.signal })
  const reader = (stream.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader()
  const first = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000))])
  abort.abort()
  t.match(first?.value, /"url":"\/admin\/live\?productId=1"/, '/api/admin/live reaches the catalog and its first event arrives while the stream is open')
  t.equal(stream.headers.get('cache-control'), 'no-store', 'the stream is not cached')
  // The provider's webhook: a POST with its signature header reaches the payment-service.
  const webhookBody = '{"id":"evt_1","type":"payment_intent.succeeded",  "data":{"object":{"amount":1999}}}\n'
  const webhook = await fetch(`${base}/api/payments/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=abc' }, body: webhookBody })
  t.equal(webhook.status, 200, 'POST /api/payments/webhook answers')
  t.same(((await webhook.json()) as { url?: string }).url, '/payments/webhook', 'the webhook reaches the payment-service')
  // An API path of the payment-service with a method nginx refuses itself (TRACE): the owner answers.
  // (fetch refuses TRACE: node:http sends it.)
  const trace = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = httpRequest(`${base}/api/payments/config`, { method: 'TRACE' }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
  t.same([trace.status, (JSON.parse(trace.body) as { service?: string }).service], [200, 'payment'], 'TRACE /api/payments/config is handed to the payment-service')
  for (const s of SERVICES) {
    const d = DOCS[s]
    const json = await get(`${base}/docs/${d}/json`)
    t.equal(json.status, 200, `/docs/${d}/json answers`)
    t.equal((json.json.info as { title?: string } | undefined)?.title, s, `it is ${s}'s OpenAPI document (the service's /docs/json)`)
    const ui = await get(`${base}/docs/${d}/`)
    t.match(ui.text, /swagger/i, `/docs/${d}/ is Swagger UI`)
    // @fastify/swagger-ui redirects static/index.html to /docs/, without nginx's prefix.
    const redirect = await get(`${base}/docs/${d}/static/index.html`)
    t.equal(redirect.status, 302, `/docs/${d}/static/index.html redirects`)
    t.equal(redirect.location, `/docs/${d}/`, 'to the prefixed Swagger UI')
    t.equal((await get(`${base}/docs/${d}`)).location, `/docs/${d}/`, `/docs/${d} -> /docs/${d}/`)
  }
  // Directly, the service's own redirect is right for a client that talks to it without nginx.
  t.equal((await get(`http://127.0.0.1:${ports.gateway}/docs/static/index.html`)).location, '/docs/', 'directly: /docs/static/index.html -> /docs/')
})

t.test('make up: the targets are resolved per request, so nginx follows moved and added containers', async (t) => {
  // The rendering of the image: its ENV (NGINX_RESOLVER) and compose's environment (the targets).
  const build = buildOf(nginxService)!
  const imageEnv = new Map(parseDockerfile(join(ROOT, build.context ?? '.', build.dockerfile!)).filter((i) => i.keyword === 'ENV').flatMap((i) => parseEnvInstruction(i.args)))
  const composeEnv = environmentOf(nginxService)
  t.equal(imageEnv.get('NGINX_RESOLVER'), '127.0.0.11', 'the image asks Docker\'s embedded DNS')
  const targets: Record<Service, string> = { catalog: 'catalog-service', gateway: 'order-gateway', processor: 'order-processor', payment: 'payment-service' }
  const groups = [...template.matchAll(/^\s*upstream\s+(\S+)\s*\{/gm)].map((m) => m[1]!)
  for (const s of SERVICES) {
    const value = composeEnv.get(`${s.toUpperCase()}_TARGET`)
    t.match(value, new RegExp(`^${targets[s]}:\\d+$`), `${s.toUpperCase()}_TARGET is the compose name and port (${value})`)
    t.notOk(groups.includes(value!.split(':')[0]!), 'which names no upstream group: nginx resolves it')
  }

  // Natively: the same names and ports, answered by our DNS server; the services on loopback aliases.
  const table = new Map<string, string[]>()
  const dns = await startDns(table)
  t.teardown(dns.close)
  for (const s of SERVICES) table.set(targets[s], ['127.0.0.2'])
  const first = {} as Record<Service, App & { seen: string[] }>
  for (const s of SERVICES) first[s] = await startService(s, '127.0.0.2', await freePort('127.0.0.2'))
  const portOf = (s: Service): number => (first[s].server.address() as { port: number }).port
  // The gateway's next containers: same port, other addresses (as a recreated or added replica).
  const second = await startService('gateway', '127.0.0.3', portOf('gateway'))
  const third = await startService('gateway', '127.0.0.4', portOf('gateway'))
  t.teardown(() => Promise.all([...SERVICES.map((s) => first[s].close()), second.close(), third.close()]))
  const vars: Record<string, string> = { NGINX_RESOLVER: `127.0.0.1:${dns.port}` }
  for (const s of SERVICES) {
    vars[`${s.toUpperCase()}_TARGET`] = `${targets[s]}:${portOf(s)}`
    // The upstream groups are unused here; nginx resolves them at start, so they must resolve natively.
    vars[`${s.toUpperCase()}_UPSTREAM`] = `127.0.0.1:${portOf(s)}`
  }
  const { base } = await startNginx(t, vars, localNames())

  const hits = async (n: number): Promise<Map<string, number>> => {
    const count = new Map<string, number>()
    for (let i = 0; i < n; i++) {
      const res = await get(`${base}/api/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV`)
      const key = res.status === 200 ? String(res.json.host) : `status ${res.status}`
      count.set(key, (count.get(key) ?? 0) + 1)
    }
    return count
  }
  t.same(Object.fromEntries(await hits(4)), { '127.0.0.2': 4 }, 'the gateway is reached at the address DNS gives')
  t.ok(dns.queries.includes('A order-gateway'), 'nginx asked the resolver for order-gateway')
  const products = await get(`${base}/api/products?x=1`)
  t.same([products.json.service, products.json.url], ['catalog', '/products?x=1'], '/api/products?x=1 -> catalog /products?x=1 through the resolver too')
  const docs = await get(`${base}/docs/gateway/json`)
  t.equal((docs.json.info as { title?: string } | undefined)?.title, 'gateway', '/docs/gateway/json -> the gateway\'s /docs/json')
  const payments = await get(`${base}/api/payments/config`)
  t.same([payments.json.service, payments.json.url], ['payment', '/payments/config'], '/api/payments/config -> payment-service /payments/config through the resolver')
  t.ok(dns.queries.includes('A payment-service'), 'nginx asked the resolver for payment-service')
  const paymentDocs = await get(`${base}/docs/payments/json`)
  t.equal((paymentDocs.json.info as { title?: string } | undefined)?.title, 'payment', '/docs/payments/json -> the payment-service\'s /docs/json')
  t.equal((await get(`${base}/docs/processor/static/index.html`)).location, '/docs/processor/', 'the docs redirect keeps the prefix')

  // The container is recreated on a new IP: the old address goes away, DNS answers the new one.
  await first.gateway.close()
  table.set('order-gateway', ['127.0.0.3'])
  const moved = await waitForHits(() => hits(3), (c) => c.get('127.0.0.3') === 3, 15_000)
  t.same(Object.fromEntries(moved.last), { '127.0.0.3': 3 }, `after the move, the new address only (followed in ${moved.seconds} s, no reload)`)

  // Scaled to two replicas: DNS answers both; requests reach both.
  table.set('order-gateway', ['127.0.0.3', '127.0.0.4'])
  const scaled = await waitForHits(() => hits(20), (c) => (c.get('127.0.0.3') ?? 0) > 0 && (c.get('127.0.0.4') ?? 0) > 0 && (c.get('127.0.0.3') ?? 0) + (c.get('127.0.0.4') ?? 0) === 20, 15_000)
  t.ok(scaled.ok, `both replicas answer (${JSON.stringify(Object.fromEntries(scaled.last))}), no reload`)
  t.ok(second.seen.length > 0 && third.seen.length > 0, 'the replicas themselves saw the requests')

  // A name DNS does not know (the service is gone): the JSON 502 of the template.
  table.delete('order-processor')
  const gone = await waitForHits(async () => {
    const res = await get(`${base}/docs/processor/json`)
    return new Map([[String(res.status), 1]])
  }, (c) => c.has('502'), 15_000)
  t.ok(gone.ok, 'a service that is gone answers 502')
  const still = await get(`${base}/api/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV`)
  t.equal(still.status, 200, 'and the others are still served')
})

/** Samples until done says so, or timeoutMs passed; returns the last sample either way. */
async function waitForHits (sample: () => Promise<Map<string, number>>, done: (c: Map<string, number>) => boolean, timeoutMs: number): Promise<{ ok: boolean, last: Map<string, number>, seconds: number }> {
  const start = Date.now()
  let last = new Map<string, number>()
  while (Date.now() - start < timeoutMs) {
    last = await sample()
    if (done(last)) return { ok: true, last, seconds: Math.round((Date.now() - start) / 100) / 10 }
    await sleep(250)
  }
  return { ok: false, last, seconds: Math.round((Date.now() - start) / 100) / 10 }
}
