// make test-compose: `make up` for real on a Docker engine, the whole life of the stack, in a Compose
// project of its own (COMPOSE_TEST_PROJECT, default flash-sale-ctest) on free host ports, so it never
// touches a developer's `make up` or `make local`:
//   make up (the one-shot migrate exited 0) → a free product, an order placed, confirmed and
//   withdrawn through nginx (checked in MySQL) → a priced product bought and paid through nginx
//   (awaiting_payment → the payment-service, stripe-mock and a sandbox test card → paid)
//   → every /docs/*/json → gateway and processor scaled to 2, 20 orders, each confirmed once and
//   both replicas used (no nginx reload) → make down (no anonymous volume left) → make up on the
//   kept volumes (product, orders and the Redis Cluster intact) → make up DEBUG=1 and back (the API
//   still answers through the same nginx) → make down, volumes removed.
// One line per step with its time; ends with `N passed, N failed`. Every step and the whole run are
// bounded; the project is removed with its volumes at the end, also after a failure or Ctrl-C.
// Where no Docker engine answers it says so and exits 0, counting nothing. Not part of `make test`.
// Environment: COMPOSE_TEST_PROJECT, COMPOSE_TEST_TIMEOUT_S (whole run, default 1800),
//   COMPOSE_TEST_KEEP=1 (leave the stack up after a failure, to look at it; `make down` removes it).
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomUUID } from 'node:crypto'

const ROOT = resolvePath(dirname(fileURLToPath(import.meta.url)), '../..')
const PROJECT = process.env.COMPOSE_TEST_PROJECT ?? 'flash-sale-ctest'
const RUN_DEADLINE = Date.now() + Number(process.env.COMPOSE_TEST_TIMEOUT_S ?? 1800) * 1000
const KEEP_ON_FAILURE = process.env.COMPOSE_TEST_KEEP === '1'
const LOG_DIR = join(ROOT, 'test-results/compose')
const MINUTE = 60_000
const SERVICES = ['catalog-service', 'order-gateway', 'order-processor', 'payment-service'] as const
/** The docs prefix under /docs/ and the OpenAPI title of each service. */
const DOCS = [['catalog', 'catalog-service'], ['gateway', 'order-gateway'], ['processor', 'order-processor'], ['payments', 'payment-service']] as const
const REDIS_NODES = [1, 2, 3, 4, 5, 6].map((n) => `redis-${n}`)
const SCALED_ORDERS = 20

// ---- processes ----------------------------------------------------------------------------------

interface Result { code: number | null, out: string }

/** Process groups still running: killed when a step times out or the run is interrupted. */
const active = new Set<number>()
function killActive (): void {
  for (const pgid of active) {
    try { process.kill(-pgid, 'SIGKILL') } catch { /* already gone */ }
  }
  active.clear()
}

/** Runs a command in its own process group; on timeout the whole group is killed (make → compose). */
function run (command: string, args: string[], options: { env?: Record<string, string>, timeoutMs: number, input?: string, log?: string }): Promise<Result> {
  return new Promise((resolve) => {
    const timeoutMs = Math.max(1000, Math.min(options.timeoutMs, RUN_DEADLINE - Date.now()))
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...stackEnv, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true
    })
    if (child.pid) active.add(child.pid)
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.stdin.end(options.input ?? '')
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try { process.kill(-child.pid!, 'SIGKILL') } catch { /* already gone */ }
    }, timeoutMs)
    child.on('error', (error) => { out += `\n${error.message}` })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (child.pid) active.delete(child.pid)
      if (timedOut) out += `\n[killed after ${Math.round(timeoutMs / 1000)} s]`
      if (options.log) writeFileSync(join(LOG_DIR, options.log), `$ ${command} ${args.join(' ')}\n${out}`, { flag: 'a' })
      resolve({ code: timedOut ? null : code, out })
    })
  })
}

/** The tail of a command's output, for a failure message. */
const tail = (text: string, lines = 15): string => text.trim().split('\n').slice(-lines).join('\n')

async function must (what: string, result: Promise<Result>): Promise<string> {
  const { code, out } = await result
  if (code !== 0) throw new Error(`${what} failed (exit ${code ?? 'timeout'}):\n${tail(out)}`)
  return out
}

// ---- the stack under test -------------------------------------------------------------------------

let stackEnv: Record<string, string> = {}
let debugFiles = false

/** `make <target>` of this repo, with the project's variables. */
const make = (target: string, vars: string[], timeoutMs: number) =>
  run('make', ['--no-print-directory', target, ...vars], { timeoutMs, log: 'make.log' })

const composeArgs = (args: string[]): string[] =>
  ['compose', '-f', 'docker-compose.yml', ...(debugFiles ? ['-f', 'deploy/docker/compose.debug.yml'] : []), ...args]

const compose = (args: string[], timeoutMs = MINUTE, input?: string) =>
  run('docker', composeArgs(args), { timeoutMs, input, log: 'compose.log' })

/** Rows of a query in the mysql container, as the application user (tab-separated, no header). */
async function sql (query: string): Promise<string[][]> {
  const out = await must('mysql', compose(['exec', '-T', 'mysql', 'sh', '-c',
    'MYSQL_PWD="$MYSQL_PASSWORD" exec mysql -N -B -u"$MYSQL_USER" "$MYSQL_DATABASE"'], MINUTE, query))
  return out.split('\n').filter((line) => line !== '').map((line) => line.split('\t'))
}

const redisCli = (node: string, args: string[]) => must(`redis-cli on ${node}`, compose(['exec', '-T', node, 'redis-cli', ...args]))

/** Container ids of a service (running ones, in replica order). */
async function containerIds (service?: string): Promise<string[]> {
  return (await must('compose ps', compose(['ps', '-q', ...(service ? [service] : [])]))).split('\n').filter(Boolean).sort()
}

/** The value of one Prometheus counter of every replica of a service, read inside each container. */
async function replicaCounters (service: typeof SERVICES[number], metric: string): Promise<number[]> {
  const port = { 'catalog-service': 3001, 'order-gateway': 3002, 'order-processor': 3003, 'payment-service': 3004 }[service]
  const replicas = (await containerIds(service)).length
  const values: number[] = []
  for (let index = 1; index <= replicas; index++) {
    const script = `const r = await fetch('http://127.0.0.1:${port}/metrics'); process.stdout.write(await r.text())`
    const text = await must(`metrics of ${service} #${index}`,
      compose(['exec', '-T', '--index', String(index), service, 'node', '--input-type=module', '-e', script]))
    const line = text.split('\n').find((l) => l.startsWith(`${metric} `) || l.startsWith(`${metric}{`))
    values.push(line ? Number(line.split(' ').at(-1)) : 0)
  }
  return values
}

// ---- HTTP through nginx ---------------------------------------------------------------------------

let baseUrl = ''
let adminToken = ''

interface Answer { status: number, body: Record<string, unknown>, text: string, headers: Headers }

async function http (method: string, path: string, options: { body?: unknown, headers?: Record<string, string> } = {}): Promise<Answer> {
  const started = Date.now()
  const res = await fetch(baseUrl + path, {
    method,
    redirect: 'manual',
    headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(15_000)
  }).catch((error: Error & { cause?: { code?: string, message?: string } }) => {
    // fetch says only "fetch failed": the cause (ECONNREFUSED, ECONNRESET, other side closed…) is
    // what tells a port nobody listens on from a connection dropped by a proxy.
    const cause = error.cause ? ` (${[error.cause.code, error.cause.message].filter(Boolean).join(': ')})` : ''
    throw new Error(`${method} ${path}: ${error.message}${cause} after ${Date.now() - started} ms`)
  })
  const text = await res.text()
  let body: Record<string, unknown> = {}
  try { body = JSON.parse(text) as Record<string, unknown> } catch { /* not JSON: text has it */ }
  return { status: res.status, body: body ?? {}, text, headers: res.headers }
}

function expect (condition: boolean, message: string, detail?: unknown): void {
  if (!condition) throw new Error(detail === undefined ? message : `${message}: ${JSON.stringify(detail).slice(0, 600)}`)
}

/** Polls until check returns a value (not undefined), or throws the last reason after timeoutMs. */
async function waitFor<T> (what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Math.min(Date.now() + timeoutMs, RUN_DEADLINE)
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) { last = error }
    if (Date.now() >= deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

// ---- configuration --------------------------------------------------------------------------------

/** A dotenv file's KEY=value pairs (quotes dropped, as Compose's env_file does). */
function readEnv (file: string): Map<string, string> {
  const vars = new Map<string, string>()
  if (!existsSync(file)) return vars
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim())
    if (m) vars.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'))
  }
  return vars
}

/** The value the containers get: .env over .env.example (their env_file order). */
const containerSetting = (name: string): string | undefined => readEnv(join(ROOT, '.env')).get(name) ?? readEnv(join(ROOT, '.env.example')).get(name)

/** A TCP port nothing listens on now, on every interface (Docker publishes nginx on 0.0.0.0). */
function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

// ---- steps ----------------------------------------------------------------------------------------

interface Step { name: string, timeoutMs: number, run: () => Promise<string | void> }

const state = {
  productId: 0,
  initialStock: 100,
  firstOrder: '',
  pricedProductId: 0,
  paidOrder: '',
  paymentId: '',
  scaledOrders: [] as string[],
  nginxId: '',
  recreatedIds: new Map<string, string[]>(),
  anonymousVolumes: [] as string[]
}

/** Receipts of guest orders (a guest reads and withdraws its order with it). */
const receipts = new Map<string, string>()
const receiptHeader = (orderId: string): Record<string, string> => {
  const receipt = receipts.get(orderId)
  return receipt ? { 'x-order-receipt': receipt } : {}
}

/** A guest order (the product has no per-user limit), as a buyer without a session places it. */
const placeOrder = async (quantity: number): Promise<string> => {
  // A shed order (503 overloaded, 429) is retried with the same Idempotency-Key after Retry-After,
  // as the front end does: on a saturated machine the gateway sheds load by design.
  const key = randomUUID()
  const res = await waitFor('POST /api/orders to be accepted', 60_000, async () => {
    const answer = await http('POST', '/api/orders', { body: { productId: state.productId, quantity }, headers: { 'idempotency-key': key } })
    if (answer.status === 503 || answer.status === 429) {
      await new Promise((resolve) => setTimeout(resolve, 1000 * Number(answer.headers.get('retry-after') ?? 1)))
      return undefined
    }
    return answer
  })
  expect(res.status === 202, 'POST /api/orders answers 202', res)
  const orderId = res.body.orderId as string
  if (typeof res.body.receipt === 'string') receipts.set(orderId, res.body.receipt)
  return orderId
}

const orderStatus = async (orderId: string): Promise<string> => {
  const res = await http('GET', `/api/orders/${orderId}`, { headers: receiptHeader(orderId) })
  expect(res.status === 200, `GET /api/orders/${orderId} answers 200`, res)
  return res.body.status as string
}

/** Every node's CLUSTER INFO says ok and every node lists all six at their current addresses. */
async function clusterWhole (): Promise<string> {
  const addresses = new Set<string>()
  for (const node of REDIS_NODES) {
    const ip = (await must('getent', compose(['exec', '-T', node, 'getent', 'hosts', node]))).trim().split(/\s+/)[0]
    addresses.add(`${ip}:6379`)
  }
  for (const node of REDIS_NODES) {
    const info = await redisCli(node, ['cluster', 'info'])
    expect(/^cluster_state:ok/m.test(info), `${node}: cluster_state ok`, info.split('\n').slice(0, 3))
    const table = (await redisCli(node, ['cluster', 'nodes'])).trim().split('\n').map((l) => l.split(' '))
    const seen = new Set(table.map((f) => f[1]!.split('@')[0]!))
    expect(table.length === 6 && [...addresses].every((a) => seen.has(a)), `${node} lists all six nodes at their current addresses`, table.map((f) => f.slice(1, 3).join(' ')))
    expect(table.every((f) => f[7] === 'connected' && !/(^|,)(fail\??|handshake|noaddr)(,|$)/.test(f[2]!)), `${node}: every link connected, no fail flag`, table.map((f) => f.slice(1, 3).join(' ') + ' ' + f[7]))
  }
  return `${addresses.size} nodes`
}

/** Names of the anonymous volumes (64 hex digits) mounted by the project's containers. */
async function anonymousVolumesOfProject (): Promise<string[]> {
  const ids = (await must('compose ps -a', compose(['ps', '-a', '-q']))).split('\n').filter(Boolean)
  if (ids.length === 0) return []
  const out = await must('docker inspect', run('docker', ['inspect', '--format', '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}', ...ids], { timeoutMs: MINUTE }))
  return [...new Set(out.split(/\s+/).filter((name) => /^[0-9a-f]{64}$/.test(name)))]
}

async function existingVolumes (names: string[]): Promise<string[]> {
  const out = await must('docker volume ls', run('docker', ['volume', 'ls', '-q'], { timeoutMs: MINUTE }))
  const all = new Set(out.split('\n'))
  return names.filter((n) => all.has(n))
}

async function projectVolumes (): Promise<string[]> {
  const out = await must('docker volume ls', run('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`], { timeoutMs: MINUTE }))
  return out.split('\n').filter(Boolean)
}

/** make up's last line on the Compose path. Without it, make up did not start the stack in Docker
 * (it runs make local where `docker info` fails): nothing of this project would be listening. */
const healthyLine = (out: string): string => {
  const line = /make up: healthy in (\d+) s/.exec(out)?.[0]
  if (line === undefined) throw new Error(`make up exited 0 without "make up: healthy in N s" (not the Compose path?):\n${tail(out)}`)
  return line
}

async function apiAnswers (): Promise<void> {
  const products = await http('GET', '/api/products?pageSize=1')
  expect(products.status === 200, 'GET /api/products answers 200', products)
  const product = await http('GET', `/api/products/${state.productId}`)
  expect(product.status === 200 && product.body.id === state.productId, `GET /api/products/${state.productId} answers the product`, product)
  const order = await http('GET', `/api/orders/${state.firstOrder}`, { headers: receiptHeader(state.firstOrder) })
  expect(order.status === 200 && order.body.orderId === state.firstOrder, 'GET /api/orders/:id answers the first order', order)
  for (const [service] of DOCS) {
    const docs = await http('GET', `/docs/${service}/json`)
    expect(docs.status === 200 && typeof docs.body.openapi === 'string', `/docs/${service}/json answers its OpenAPI document`, docs.status)
  }
  const payments = await http('GET', '/api/payments/config')
  expect(payments.status === 200 && typeof payments.body.sandbox === 'boolean', 'GET /api/payments/config answers', payments)
}

/** The one-shot migrate: exited 0, and what it said. */
async function migrateOutcome (): Promise<string> {
  const rows = (await must('compose ps migrate', compose(['ps', '-a', '--format', '{{.State}}|{{.ExitCode}}', 'migrate']))).trim().split('\n').filter(Boolean)
  expect(rows.length === 1 && rows[0] === 'exited|0', 'the migrate one-shot ran and exited 0', rows)
  const log = await must('compose logs migrate', compose(['logs', '--no-log-prefix', 'migrate']))
  // The last run's line: a container started again by a later `up` keeps its earlier log.
  const said = log.match(/^migrate: .*$/gm)?.at(-1)
  expect(said !== undefined, 'migrate says what it did', tail(log, 5))
  return said!
}

const steps: Step[] = [
  {
    name: 'make up (build, start, wait until healthy; migrate exited 0)',
    timeoutMs: 20 * MINUTE,
    run: async () => {
      const out = await must('make up', make('up', [], 20 * MINUTE))
      const healthy = healthyLine(out)
      const migrated = await migrateOutcome()
      expect(/applied 001_/.test(migrated), 'on an empty database migrate applied every migration', migrated)
      const versions = await sql('SELECT COUNT(*) FROM schema_migrations')
      return `${healthy}; ${migrated} (${versions[0]?.[0]} in schema_migrations)`
    }
  },
  {
    name: 'create a free product through nginx (in MySQL)',
    timeoutMs: MINUTE,
    run: async () => {
      // Price 0: its orders are confirmed at once, with no payment (the priced path is step 5).
      const res = await http('POST', '/api/products', {
        body: { name: `compose test ${new Date().toISOString()}`, stock: state.initialStock, price: 0 },
        headers: { authorization: `Bearer ${adminToken}` }
      })
      expect(res.status === 201, 'POST /api/products answers 201', res)
      state.productId = res.body.id as number
      const rows = await sql(`SELECT stock, status FROM products WHERE id = ${state.productId}`)
      expect(rows[0]?.[0] === String(state.initialStock) && rows[0]?.[1] === 'active', 'the product is in MySQL with its stock', rows)
      return `product ${state.productId}`
    }
  },
  {
    name: 'place an order, processed to confirmed (MySQL)',
    timeoutMs: 2 * MINUTE,
    run: async () => {
      state.firstOrder = await placeOrder(2)
      await waitFor('the order to be confirmed', 90_000, async () => (await orderStatus(state.firstOrder)) === 'confirmed' ? true : undefined)
      const rows = await sql(`SELECT status, quantity FROM orders WHERE id = '${state.firstOrder}'`)
      expect(rows.length === 1 && rows[0]![0] === 'confirmed' && rows[0]![1] === '2', 'one confirmed row in MySQL', rows)
      const stock = await sql(`SELECT stock FROM products WHERE id = ${state.productId}`)
      expect(stock[0]?.[0] === String(state.initialStock - 2), 'MySQL stock went down by 2', stock)
      return `order ${state.firstOrder}`
    }
  },
  {
    name: 'withdraw it: cancelled, units back (MySQL and Redis)',
    timeoutMs: 2 * MINUTE,
    run: async () => {
      const res = await http('DELETE', `/api/orders/${state.firstOrder}`, { headers: receiptHeader(state.firstOrder) })
      expect(res.status === 202, 'DELETE /api/orders/:id answers 202', res)
      await waitFor('the order to be cancelled', 90_000, async () => (await orderStatus(state.firstOrder)) === 'cancelled' ? true : undefined)
      const rows = await sql(`SELECT o.status, p.stock FROM orders o JOIN products p ON p.id = o.product_id WHERE o.id = '${state.firstOrder}'`)
      expect(rows[0]?.[0] === 'cancelled' && rows[0]?.[1] === String(state.initialStock), 'cancelled in MySQL, stock back to the start', rows)
      const live = await waitFor('live stock back in Redis', 30_000, async () => {
        const product = await http('GET', `/api/products/${state.productId}`)
        return product.body.stock === state.initialStock ? product.body.stock as number : undefined
      })
      return `stock ${live}`
    }
  },
  {
    name: 'buy a priced product and pay it through nginx: awaiting_payment → paid (MySQL)',
    timeoutMs: 3 * MINUTE,
    run: async () => {
      const price = 1999
      const created = await http('POST', '/api/products', {
        body: { name: `compose test priced ${new Date().toISOString()}`, stock: 10, price, paymentWindowSeconds: 600 },
        headers: { authorization: `Bearer ${adminToken}` }
      })
      expect(created.status === 201 && created.body.price === price, 'POST /api/products (priced) answers 201', created)
      state.pricedProductId = created.body.id as number
      const config = await http('GET', '/api/payments/config')
      expect(config.status === 200 && config.body.sandbox === true, 'GET /api/payments/config: sandbox mode (test cards)', config)

      // The guest's order: held for payment, not confirmed.
      const key = randomUUID()
      const placed = await waitFor('POST /api/orders (priced) to be accepted', 60_000, async () => {
        const answer = await http('POST', '/api/orders', { body: { productId: state.pricedProductId, quantity: 1 }, headers: { 'idempotency-key': key } })
        return answer.status === 503 || answer.status === 429 ? undefined : answer
      })
      expect(placed.status === 202 && typeof placed.body.receipt === 'string', 'POST /api/orders answers 202 with a receipt', placed)
      const orderId = placed.body.orderId as string
      state.paidOrder = orderId
      receipts.set(orderId, placed.body.receipt as string)
      const held = await waitFor('the order to await payment', 90_000, async () => {
        const res = await http('GET', `/api/orders/${orderId}`, { headers: receiptHeader(orderId) })
        return res.status === 200 && res.body.status === 'awaiting_payment' ? res.body : undefined
      })
      expect(held.amount === price && typeof held.payBy === 'string', 'awaiting_payment with its amount and payBy', held)

      // Pay: open the payment (a PaymentIntent at stripe-mock), confirm with the test card that
      // succeeds; the sandbox delivers the signed payment_intent.succeeded to the webhook route.
      const opened = await http('POST', '/api/payments', { body: { orderId }, headers: receiptHeader(orderId) })
      expect(opened.status === 201 && typeof opened.body.paymentId === 'string' && opened.body.amount === price, 'POST /api/payments answers 201 with the payment', opened)
      state.paymentId = opened.body.paymentId as string
      const confirmed = await http('POST', `/api/payments/${state.paymentId}/sandbox-confirm`, { body: { paymentMethod: 'pm_card_visa' }, headers: receiptHeader(orderId) })
      expect(confirmed.status === 202, 'POST /api/payments/:id/sandbox-confirm answers 202', confirmed)
      const paid = await waitFor('the order to be paid', 90_000, async () => {
        const res = await http('GET', `/api/orders/${orderId}`, { headers: receiptHeader(orderId) })
        return res.status === 200 && res.body.status === 'paid' ? res.body : undefined
      })
      expect(paid.paymentStatus === 'paid', 'the order shows its payment paid', paid)
      const payment = await http('GET', `/api/payments/${state.paymentId}`, { headers: receiptHeader(orderId) })
      expect(payment.status === 200 && payment.body.status === 'paid', 'GET /api/payments/:id: paid', payment)
      const rows = await sql(`SELECT o.status, o.payment_id, p.status, p.amount FROM orders o JOIN payments p ON p.id = o.payment_id WHERE o.id = '${orderId}'`)
      expect(rows.length === 1 && rows[0]![0] === 'paid' && rows[0]![1] === state.paymentId && rows[0]![2] === 'paid' && rows[0]![3] === String(price),
        'MySQL: the order paid by this payment, the payment paid', rows)
      const events = await sql(`SELECT type FROM payment_events WHERE payment_id = '${state.paymentId}'`)
      expect(events.some(([type]) => type === 'payment_intent.succeeded'), 'the signed event was applied (payment_events)', events)
      return `order ${orderId} paid by ${state.paymentId}`
    }
  },
  {
    name: 'every /docs/*/json through nginx; docs redirects keep the prefix',
    timeoutMs: MINUTE,
    run: async () => {
      for (const [service, title] of DOCS) {
        const json = await http('GET', `/docs/${service}/json`)
        expect(json.status === 200 && /^3\./.test(String(json.body.openapi)) && (json.body.info as { title?: string } | undefined)?.title === title, `/docs/${service}/json is ${title}'s OpenAPI document`, json.status)
        const page = await http('GET', `/docs/${service}/`)
        expect(page.status === 200 && /swagger/i.test(page.text), `/docs/${service}/ is Swagger UI`, page.status)
        const redirect = await http('GET', `/docs/${service}/static/index.html`)
        expect(redirect.status >= 300 && redirect.status < 400 && redirect.headers.get('location') === `/docs/${service}/`,
          `/docs/${service}/static/index.html redirects to /docs/${service}/`, { status: redirect.status, location: redirect.headers.get('location') })
      }
      return `${DOCS.length} services`
    }
  },
  {
    name: `scale gateway and processor to 2, ${SCALED_ORDERS} orders: each confirmed once, both replicas used`,
    timeoutMs: 6 * MINUTE,
    run: async () => {
      const gatewayBefore = await replicaCounters('order-gateway', 'orders_accepted_total')
      const processorBefore = await replicaCounters('order-processor', 'processor_orders_confirmed_total')
      await must('scale', compose(['up', '-d', '--no-build', '--no-recreate', '--scale', 'order-gateway=2', '--scale', 'order-processor=2', '--wait', '--wait-timeout', '240'], 5 * MINUTE))
      // Both processors must own partitions before the orders go out, or one takes them all.
      const group = containerSetting('KAFKA_GROUP_ID') ?? 'order-processor'
      await waitFor('two processors with partitions in the consumer group', 120_000, async () => {
        const out = await must('kafka-consumer-groups', compose(['exec', '-T', 'kafka', '/opt/kafka/bin/kafka-consumer-groups.sh',
          '--bootstrap-server', 'kafka:9092', '--describe', '--group', group, '--members'], MINUTE))
        // GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS, one line per member
        const members = out.split('\n').filter((l) => l.split(/\s+/)[0] === group)
        const withPartitions = members.filter((l) => Number(l.trim().split(/\s+/).at(-1)) > 0)
        return withPartitions.length === 2 ? true : undefined
      })
      // nginx keeps a DNS answer 5 s: the one it may hold from before the scale names one gateway.
      await new Promise((resolve) => setTimeout(resolve, 6000))
      const before = Number((await sql(`SELECT COUNT(*) FROM orders WHERE product_id = ${state.productId}`))[0]?.[0])
      state.scaledOrders = await Promise.all(Array.from({ length: SCALED_ORDERS }, () => placeOrder(1)))
      expect(new Set(state.scaledOrders).size === SCALED_ORDERS, `${SCALED_ORDERS} distinct order ids`, state.scaledOrders)
      const ids = state.scaledOrders.map((id) => `'${id}'`).join(',')
      await waitFor(`all ${SCALED_ORDERS} orders confirmed in MySQL`, 120_000, async () => {
        const rows = await sql(`SELECT COUNT(*) FROM orders WHERE id IN (${ids}) AND status = 'confirmed'`)
        return rows[0]?.[0] === String(SCALED_ORDERS) ? true : undefined
      })
      const after = await sql(`SELECT COUNT(*), SUM(status = 'confirmed') FROM orders WHERE product_id = ${state.productId}`)
      expect(Number(after[0]?.[0]) === before + SCALED_ORDERS, 'each order written exactly once', { before, after })
      const stock = await sql(`SELECT stock FROM products WHERE id = ${state.productId}`)
      expect(stock[0]?.[0] === String(state.initialStock - SCALED_ORDERS), `MySQL stock down by ${SCALED_ORDERS}`, stock)
      const gatewayAfter = await replicaCounters('order-gateway', 'orders_accepted_total')
      const processorAfter = await replicaCounters('order-processor', 'processor_orders_confirmed_total')
      const gatewaySplit = gatewayAfter.map((v, i) => v - (gatewayBefore[i] ?? 0))
      const processorSplit = processorAfter.map((v, i) => v - (processorBefore[i] ?? 0))
      expect(gatewaySplit.length === 2 && gatewaySplit.every((n) => n > 0) && gatewaySplit.reduce((a, b) => a + b, 0) === SCALED_ORDERS,
        'both gateways accepted orders, together all of them', gatewaySplit)
      expect(processorSplit.length === 2 && processorSplit.every((n) => n > 0) && processorSplit.reduce((a, b) => a + b, 0) === SCALED_ORDERS,
        'both processors confirmed orders, together all of them', processorSplit)
      return `gateways ${gatewaySplit.join('/')}, processors ${processorSplit.join('/')}`
    }
  },
  {
    name: 'make down (data volumes kept, no anonymous volume left)',
    timeoutMs: 4 * MINUTE,
    run: async () => {
      state.anonymousVolumes = await anonymousVolumesOfProject()
      await must('make down', make('down', [], 4 * MINUTE))
      expect((await containerIds()).length === 0, 'no container of the project runs')
      const left = await existingVolumes(state.anonymousVolumes)
      expect(left.length === 0, 'the anonymous volumes of the containers are removed', left)
      const kept = await projectVolumes()
      expect(kept.length >= 8, 'the named data volumes are kept', kept)
      return `${state.anonymousVolumes.length} anonymous volumes removed, ${kept.length} data volumes kept`
    }
  },
  {
    name: 'make up again on the kept volumes (new IPs): data intact, cluster whole',
    timeoutMs: 10 * MINUTE,
    run: async () => {
      const out = await must('make up', make('up', [], 10 * MINUTE))
      const healthy = healthyLine(out)
      const migrated = await migrateOutcome()
      expect(migrated === 'migrate: schema is current', 'migrate ran again and found the schema current', migrated)
      const product = await http('GET', `/api/products/${state.productId}`)
      expect(product.status === 200 && product.body.stock === state.initialStock - SCALED_ORDERS, 'the product and its live stock are back', product)
      const rows = await sql(`SELECT status, COUNT(*) FROM orders WHERE product_id = ${state.productId} GROUP BY status`)
      const counts = Object.fromEntries(rows.map(([status, n]) => [status, Number(n)]))
      expect(JSON.stringify(counts, ['cancelled', 'confirmed', 'failed']) === JSON.stringify({ cancelled: 1, confirmed: SCALED_ORDERS }), 'its orders are in MySQL', rows)
      const order = await http('GET', `/api/orders/${state.scaledOrders[0]}`, { headers: receiptHeader(state.scaledOrders[0]!) })
      expect(order.status === 200 && order.body.status === 'confirmed', 'an order answers through nginx', order)
      const paid = await http('GET', `/api/orders/${state.paidOrder}`, { headers: receiptHeader(state.paidOrder) })
      expect(paid.status === 200 && paid.body.status === 'paid', 'the paid order is still paid', paid)
      await clusterWhole()
      return `${healthy}; cluster whole`
    }
  },
  {
    name: 'make up DEBUG=1: internal ports published, API answers',
    timeoutMs: 6 * MINUTE,
    run: async () => {
      state.nginxId = (await containerIds('nginx'))[0] ?? ''
      debugFiles = true
      const out = await must('make up DEBUG=1', make('up', ['DEBUG=1'], 6 * MINUTE))
      const healthy = healthyLine(out)
      const port = (await must('compose port', compose(['port', 'order-gateway', '3002']))).trim()
      const live = await fetch(`http://${port}/health/live`, { signal: AbortSignal.timeout(5000) })
      expect(live.status === 200, `the gateway answers on its published port ${port}`, live.status)
      const mysqlPort = (await must('compose port', compose(['port', 'mysql', '3306']))).trim()
      expect(/^127\.0\.0\.1:\d+$/.test(mysqlPort), 'mysql is published on 127.0.0.1', mysqlPort)
      await apiAnswers()
      return `${healthy}; gateway on ${port}, mysql on ${mysqlPort}`
    }
  },
  {
    name: 'make up again (no DEBUG): services recreated on new IPs, same nginx follows',
    timeoutMs: 6 * MINUTE,
    run: async () => {
      const before = new Map<string, string[]>()
      for (const s of ['mysql', ...SERVICES]) before.set(s, await containerIds(s))
      debugFiles = false
      const out = await must('make up', make('up', [], 6 * MINUTE))
      const healthy = healthyLine(out)
      for (const s of ['mysql', ...SERVICES]) {
        const now = await containerIds(s)
        expect(now.length === 1 && !before.get(s)!.includes(now[0]!), `${s} was recreated`, { before: before.get(s), now })
      }
      expect((await containerIds('nginx'))[0] === state.nginxId, 'nginx is the same container (not restarted)')
      await apiAnswers()
      return healthy
    }
  },
  {
    name: 'make down (no anonymous volume left, also after recreations), then remove the volumes',
    timeoutMs: 4 * MINUTE,
    run: async () => {
      // After steps 9 and 10 recreated containers: an anonymous volume compose handed from an old
      // container to its replacement is one Docker no longer removes with the container.
      const anonymous = await anonymousVolumesOfProject()
      await must('make down', make('down', [], 3 * MINUTE))
      const leftAnonymous = await existingVolumes([...new Set([...state.anonymousVolumes, ...anonymous])])
      expect(leftAnonymous.length === 0, 'make down leaves no anonymous volume of the run behind', leftAnonymous)
      await must('compose down -v', compose(['down', '-v', '--remove-orphans'], MINUTE))
      const left = await projectVolumes()
      expect(left.length === 0, 'no volume of the project is left', left)
      return 'clean'
    }
  }
]

// ---- main -----------------------------------------------------------------------------------------

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

async function cleanUp (): Promise<void> {
  debugFiles = true // names every service either file defines
  await compose(['down', '-v', '--remove-orphans', '--timeout', '10'], 3 * MINUTE)
}

async function main (): Promise<number> {
  const engine = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 })
  if (engine.code !== 0) {
    console.log('test-compose: no Docker engine answers (docker info failed) — nothing run, nothing counted')
    console.log('0 passed, 0 failed')
    return 0
  }
  const composeVersion = await run('docker', ['compose', 'version', '--short'], { timeoutMs: 20_000 })
  if (composeVersion.code !== 0) {
    console.log('test-compose: the Docker Compose plugin is missing (docker compose version failed) — nothing run')
    console.log('0 passed, 1 failed')
    return 1
  }
  mkdirSync(LOG_DIR, { recursive: true })
  for (const f of ['make.log', 'compose.log']) writeFileSync(join(LOG_DIR, f), '')

  const nginxPort = await freePort()
  const kafkaDebugPort = await freePort()
  stackEnv = { COMPOSE_PROJECT_NAME: PROJECT, NGINX_PORT: String(nginxPort), KAFKA_DEBUG_PORT: String(kafkaDebugPort) }
  baseUrl = `http://127.0.0.1:${nginxPort}`
  adminToken = containerSetting('ADMIN_TOKEN') ?? ''
  console.log(`test-compose: engine ${engine.out.trim()}, compose ${composeVersion.out.trim()}; project ${PROJECT}, NGINX_PORT=${nginxPort}, KAFKA_DEBUG_PORT=${kafkaDebugPort}; logs in ${LOG_DIR.slice(ROOT.length + 1)}/`)

  let interrupted = false
  const onSignal = (): void => {
    if (!interrupted) console.log('test-compose: interrupted — stopping the running step, then removing the project')
    interrupted = true
    killActive()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  // A run that was killed may have left the project behind: start from nothing.
  await cleanUp()
  debugFiles = false

  let passed = 0
  let failed = 0
  const t0 = Date.now()
  for (const [i, step] of steps.entries()) {
    const label = `${String(i + 1).padStart(2)}. ${step.name}`
    if (failed > 0 || interrupted || Date.now() >= RUN_DEADLINE) {
      console.log(`${label} ... not run`)
      continue
    }
    const start = Date.now()
    try {
      const note = await Promise.race([
        step.run(),
        new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`step timed out after ${seconds(step.timeoutMs)}`)), step.timeoutMs).unref())
      ])
      passed++
      console.log(`${label} ... ok ${seconds(Date.now() - start)}${note ? ` (${note})` : ''}`)
    } catch (error) {
      killActive() // a step that timed out may still have a command running
      failed++
      console.log(`${label} ... FAILED ${seconds(Date.now() - start)}`)
      console.log(String((error as Error).message).split('\n').map((l) => `      ${l}`).join('\n'))
    }
  }
  if (failed > 0 && KEEP_ON_FAILURE) {
    console.log(`test-compose: COMPOSE_TEST_KEEP=1, project ${PROJECT} left up (COMPOSE_PROJECT_NAME=${PROJECT} make down; docker compose -p ${PROJECT} down -v)`)
  } else {
    const start = Date.now()
    await cleanUp()
    const left = await projectVolumes()
    console.log(`test-compose: project ${PROJECT} removed with its volumes in ${seconds(Date.now() - start)}${left.length ? `; WARNING volumes left: ${left.join(' ')}` : ''}`)
  }
  if (interrupted) failed++
  console.log(`total ${seconds(Date.now() - t0)}`)
  console.log(`${passed} passed, ${failed} failed`)
  return failed === 0 ? 0 : 1
}

process.exitCode = await main()
