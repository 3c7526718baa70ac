import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Pool, RowDataPacket } from 'mysql2/promise'
import type { Cluster } from 'ioredis'
import Stripe from 'stripe'
import { productKeys } from '@flash/common/contracts'
import type { StockStore } from '@flash/common/stock'
import { buyerAddress, runLoad } from './load.ts'
import { loadStats, fmt } from './report.ts'
import { envOrExample, mintBuyers, type BenchBuyer } from './buyers.ts'
import { clockTicksPerSecond } from './clock-ticks.ts'
import { cpuTicks } from './cpu.ts'
import { pidListeningOn } from './sampler.ts'
import { createProduct } from './scenarios.ts'
import type { Check } from './verify.ts'

// The `pay` scenario: a priced product sells with a payment window. A crowd rushes `stock` units;
// about `payShare` of the winners open a payment (POST /payments on the payment-service) and pay — the
// bench sends the provider's signed `payment_intent.succeeded` event to the webhook, as Stripe would;
// the rest abandon, their holds expire at payBy and the units go back on sale, where buyers still
// trying (refused ones, retrying at a bounded rate until the horizon) take them. Reported: units paid,
// expired and re-sold; the expiry lag (payBy → the order's units back in Redis, seen by polling the
// return marker); webhook throughput and the payment-service's CPU per webhook (a burst of the first
// winners' events); and the invariants from MySQL and Redis once every hold has ended.

export interface PaySpec {
  stock: number
  buyers: number
  connections: number
  /** the product's payment window (paymentWindowSeconds) */
  windowSeconds: number
  /** the share of winners who pay */
  payShare: number
  /** minor units per unit */
  price: number
  /** retries per second of buyers still trying, after the rush */
  retryRate: number
  /** the buyers stop trying this long after the first request */
  horizonSeconds: number
  /** a hold may still be awaiting_payment this long past its payBy (the documented bound) */
  holdBoundMs: number
  /** concurrent webhook deliveries in the burst */
  webhookConcurrency: number
}

export interface PayContext {
  pool: Pool
  redis: Cluster
  store: StockStore
  gatewayUrl: string
  catalogUrl: string
  paymentsUrl: string
  adminToken: string
  runTag: string
  timeoutSeconds: number
  log: (message: string) => void
}

export interface PayReport {
  spec: PaySpec
  productId: number
  rush: { requestsPerSecond: number, p99Ms: number, accepted: number }
  retries: { requests: number, accepted: number }
  units: { onSale: number, accepted: number, paid: number, expired: number, resold: number, heldAtEnd: number, availableAtEnd: number | null }
  payments: { opened: number, notOpened: number, webhooks: number, webhookErrors: number, latePayments: number }
  webhookBurst: { webhooks: number, seconds: number, perSecond: number, p99Ms: number, cpuMicrosPerWebhook: number | null, paymentServicePid: number | null }
  expiryLag: { expired: number, measured: number, p50Ms: number | null, p99Ms: number | null, maxMs: number | null, pollMs: number }
  checks: Check[]
}

const POLL_MS = 50
const MYSQL_POLL_MS = 250
const OPEN_CONCURRENCY = 16

/** Deterministic pay-or-abandon decision per buyer and attempt (Knuth's multiplicative hash). */
const pays = (buyer: number, attempt: number, share: number): boolean => (((buyer * 2654435761 + attempt * 40503) >>> 0) % 1000) / 1000 < share

const percentile = (values: number[], p: number): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))] ?? null
}

interface Hold { payBy: number, status: string, backAt: number | null, overdueSeen: number }

/**
 * Follows every order of the product: MySQL's state every MYSQL_POLL_MS, and, for holds past their
 * payBy, whether Redis has put their units back (the return marker) every POLL_MS.
 */
class HoldTracker {
  readonly holds = new Map<string, Hold>()
  /** the longest a hold was seen still awaiting_payment past its payBy */
  maxOverdueMs = 0
  readonly #o: { pool: Pool, redis: Cluster, productId: number }
  readonly #returnedPrefix: string
  #running = true
  #loops: Array<Promise<void>> = []

  constructor (o: { pool: Pool, redis: Cluster, productId: number }) {
    this.#o = o
    this.#returnedPrefix = productKeys(o.productId).returnedPrefix
  }

  start (): void {
    this.#loops = [this.#every(MYSQL_POLL_MS, () => this.#readMysql()), this.#every(POLL_MS, () => this.#readRedis())]
  }

  async stop (): Promise<void> {
    this.#running = false
    await Promise.all(this.#loops)
    await this.#readMysql()
    await this.#readRedis()
  }

  async #every (ms: number, work: () => Promise<void>): Promise<void> {
    while (this.#running) {
      const started = performance.now()
      try { await work() } catch { /* a missed poll is a coarser figure, not a failed run */ }
      await sleep(Math.max(0, ms - (performance.now() - started)))
    }
  }

  async #readMysql (): Promise<void> {
    const [rows] = await this.#o.pool.query<RowDataPacket[]>(
      'SELECT id, status, pay_by FROM orders WHERE product_id = ? AND pay_by IS NOT NULL', [this.#o.productId])
    const now = Date.now()
    for (const row of rows) {
      const id = String(row.id)
      const payBy = (row.pay_by as Date).getTime()
      const hold = this.holds.get(id) ?? { payBy, status: '', backAt: null, overdueSeen: 0 }
      hold.status = String(row.status)
      if (hold.status === 'awaiting_payment' && now > payBy) {
        hold.overdueSeen = Math.max(hold.overdueSeen, now - payBy)
        this.maxOverdueMs = Math.max(this.maxOverdueMs, now - payBy)
      }
      this.holds.set(id, hold)
    }
  }

  async #readRedis (): Promise<void> {
    const now = Date.now()
    const due = [...this.holds].filter(([, h]) => h.backAt === null && h.status !== 'paid' && h.payBy <= now)
    if (due.length === 0) return
    const pipeline = this.#o.redis.pipeline()
    for (const [id] of due) pipeline.exists(`${this.#returnedPrefix}${id}`)
    const results = await pipeline.exec()
    due.forEach(([, hold], i) => { if (Number(results?.[i]?.[1] ?? 0) === 1) hold.backAt = now })
  }
}

interface OpenPayment { paymentId: string, orderId: string, amount: number, currency: string }

export async function runPay (ctx: PayContext, spec: PaySpec): Promise<PayReport> {
  const webhookSecret = envOrExample('STRIPE_WEBHOOK_SECRET')
  const stripe = new Stripe('sk_test_bench_signs_events_only')
  const productId = await createProduct(ctx, `Bench pay ${ctx.runTag}`, spec.stock, { price: spec.price, paymentWindowSeconds: spec.windowSeconds })
  const tag = `${ctx.runTag}pay`
  const buyers: BenchBuyer[] = mintBuyers(spec.buyers, tag)
  ctx.log(`pay: product ${productId}, ${spec.stock} units at ${spec.price} for ${spec.buyers} buyers, ${spec.windowSeconds} s to pay, ${Math.round(spec.payShare * 100)} % pay`)

  const tracker = new HoldTracker({ pool: ctx.pool, redis: ctx.redis, productId })
  tracker.start()
  const saleStart = Date.now()
  const burstAt = saleStart + spec.windowSeconds * 1000 / 2
  const opened: OpenPayment[] = []
  const burst: OpenPayment[] = []
  let notOpened = 0
  let webhooks = 0
  let webhookErrors = 0
  const tasks = new Set<Promise<void>>()
  const track = (task: Promise<void>): void => { tasks.add(task); void task.finally(() => tasks.delete(task)) }

  // Opening payments, OPEN_CONCURRENCY at a time (each one is a PaymentIntent at the provider).
  const openQueue: Array<() => Promise<void>> = []
  let openRunning = 0
  const pumpOpen = (): void => {
    while (openRunning < OPEN_CONCURRENCY && openQueue.length > 0) {
      const job = openQueue.shift()!
      openRunning++
      track(job().finally(() => { openRunning--; pumpOpen() }))
    }
  }

  const deliver = async (payment: OpenPayment): Promise<number> => {
    const payload = JSON.stringify({
      id: `evt_bench_${randomBytes(12).toString('hex')}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: payment.paymentId, object: 'payment_intent', amount: payment.amount, currency: payment.currency, status: 'succeeded', metadata: { orderId: payment.orderId } } }
    })
    const started = performance.now()
    const response = await fetch(`${ctx.paymentsUrl}/payments/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret }) },
      body: payload
    }).catch(() => null)
    await response?.arrayBuffer()
    webhooks++
    if (response?.status !== 200) webhookErrors++
    return performance.now() - started
  }

  /** A winner who pays: open the payment once the order is held, then pay (now, later, or in the burst). */
  const pay = (buyer: number, orderId: string, firstWave: boolean): void => {
    openQueue.push(async () => {
      const payment = await openPayment(ctx, buyers[buyer]!, orderId)
      if (payment === null) { notOpened++; return }
      opened.push(payment)
      if (firstWave && Date.now() < burstAt) { burst.push(payment); return }
      const think = firstWave ? 0 : 500 + Math.random() * (spec.windowSeconds * 1000 / 2 - 500)
      track(sleep(think).then(async () => { await deliver(payment) }))
    })
    pumpOpen()
  }

  // 1. The rush.
  const winners = new Set<number>()
  const rush = await runLoad({
    baseUrl: ctx.gatewayUrl,
    ordersPath: '/orders',
    productId,
    requests: spec.buyers,
    connections: spec.connections,
    runTag: tag,
    authorizations: buyers.map((b) => b.authorization),
    timeoutSeconds: ctx.timeoutSeconds,
    onAccepted: (i, orderId) => {
      winners.add(i)
      if (pays(i, 0, spec.payShare)) pay(i, orderId, true)
    }
  })
  const rushStats = loadStats(rush)
  ctx.log(`pay: rush ${Math.round(rushStats.requestsPerSecond)} req/s, p99 ${rushStats.latencyMs.p99.toFixed(1)} ms, ${rush.accepted.size} accepted`)

  // 2. The webhook burst: the first winners' events at once (those whose payments were open by then).
  const burstResult = (async () => {
    await sleep(Math.max(0, burstAt - Date.now()))
    const list = burst.splice(0)
    const pid = pidListeningOn(Number(new URL(ctx.paymentsUrl).port || 80))
    const before = pid === null ? null : cpuTicks(pid)
    const started = performance.now()
    const latencies: number[] = []
    let next = 0
    await Promise.all(Array.from({ length: Math.min(spec.webhookConcurrency, list.length) }, async () => {
      for (let k = next++; k < list.length; k = next++) latencies.push(await deliver(list[k]!))
    }))
    const seconds = (performance.now() - started) / 1000
    const after = pid === null ? null : cpuTicks(pid)
    ctx.log(`pay: webhook burst: ${list.length} events in ${seconds.toFixed(2)} s`)
    return {
      webhooks: list.length,
      seconds,
      perSecond: seconds > 0 ? list.length / seconds : 0,
      p99Ms: percentile(latencies, 99) ?? 0,
      cpuMicrosPerWebhook: before === null || after === null || list.length === 0 ? null : (after - before) / clockTicksPerSecond * 1e6 / list.length,
      paymentServicePid: pid
    }
  })()

  // 3. Buyers still trying: refused buyers, round robin, at a bounded rate until the horizon.
  const refused = Array.from({ length: spec.buyers }, (_, i) => i).filter((i) => !winners.has(i))
  const horizon = saleStart + spec.horizonSeconds * 1000
  let retries = 0
  let retryAccepted = 0
  let cursor = 0
  const inFlight = new Set<Promise<void>>()
  while (Date.now() < horizon && refused.length > 0) {
    const tickStarted = Date.now()
    const perTick = Math.max(1, Math.round(spec.retryRate / 10))
    for (let k = 0; k < perTick && inFlight.size < 20 && refused.length > 0; k++) {
      const slot = cursor++ % refused.length
      const buyer = refused[slot]!
      const attempt = ++retries
      const request = (async () => {
        const response = await fetch(`${ctx.gatewayUrl}/orders`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: buyers[buyer]!.authorization,
            'idempotency-key': `bench-${tag}-retry-${attempt}`,
            'x-forwarded-for': buyerAddress(buyer)
          },
          body: JSON.stringify({ productId, quantity: 1 })
        }).catch(() => null)
        const body = await response?.json().catch(() => null) as { orderId?: string } | null
        if (response?.status === 202 && typeof body?.orderId === 'string') {
          retryAccepted++
          const index = refused.indexOf(buyer)
          if (index >= 0) refused.splice(index, 1)
          if (pays(buyer, attempt, spec.payShare)) pay(buyer, body.orderId, false)
        }
      })()
      inFlight.add(request)
      void request.finally(() => inFlight.delete(request))
    }
    await sleep(Math.max(0, 100 - (Date.now() - tickStarted)))
  }
  await Promise.all(inFlight)
  ctx.log(`pay: buyers stopped trying: ${retries} retries, ${retryAccepted} accepted`)

  // 4. Every hold ends: paid, or expired by payBy + the bound; every payment and webhook settled.
  const webhookBurst = await burstResult
  while (tasks.size > 0) await Promise.all([...tasks])
  const deadline = Date.now() + (spec.windowSeconds * 1000 + spec.holdBoundMs + 15_000)
  for (;;) {
    const [rows] = await ctx.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM orders WHERE product_id = ? AND status = \'awaiting_payment\'', [productId])
    const snapshot = await ctx.store.snapshot(productId)
    if ((Number(rows[0]?.n ?? 0) === 0 && snapshot.ledger.length === 0) || Date.now() > deadline) break
    await sleep(250)
  }
  await sleep(1000) // late payments' refunds and the last returns
  await tracker.stop()

  // 5. What happened, from MySQL and Redis.
  const [orders] = await ctx.pool.query<RowDataPacket[]>('SELECT id, status, quantity FROM orders WHERE product_id = ?', [productId])
  const units = (status: string): number => orders.filter((o) => o.status === status).reduce((n, o) => n + Number(o.quantity), 0)
  const [payments] = await ctx.pool.query<RowDataPacket[]>(
    'SELECT p.order_id, p.status, o.status AS order_status FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.product_id = ?', [productId])
  const [mysqlProduct] = await ctx.pool.query<RowDataPacket[]>('SELECT stock FROM products WHERE id = ?', [productId])
  const snapshot = await ctx.store.snapshot(productId)
  const available = snapshot.available
  const paid = units('paid')
  const held = units('awaiting_payment')
  const expired = units('expired')
  const accepted = rush.accepted.size + retryAccepted
  const capturedPerOrder = new Map<string, number>()
  for (const p of payments) if (p.status === 'paid' || p.status === 'succeeded') capturedPerOrder.set(String(p.order_id), (capturedPerOrder.get(String(p.order_id)) ?? 0) + 1)
  const late = payments.filter((p) => p.order_status !== 'paid' && ['succeeded', 'refund_pending', 'refunded'].includes(String(p.status)))
  const paidIds = orders.filter((o) => o.status === 'paid').map((o) => String(o.id))
  const markers = paidIds.length === 0 ? [] : ((await ctx.redis.pipeline(paidIds.map((id) => ['exists', `${productKeys(productId).returnedPrefix}${id}`])).exec()) ?? [])
  const paidAndReturned = markers.filter(([, value]) => Number(value) === 1).length
  const lags = [...tracker.holds.values()].filter((h) => h.status === 'expired' && h.backAt !== null).map((h) => Math.max(0, (h.backAt ?? 0) - h.payBy))

  const checks: Check[] = []
  const check = (id: string, name: string, ok: boolean, detail: string): void => { checks.push({ id, name, ok, detail }) }
  check('P1', 'conservation: available + held + paid = units put on sale', available !== null && available + held + paid === spec.stock,
    `available ${available ?? 'not on sale'} + held ${held} + paid ${paid} = ${(available ?? 0) + held + paid}, on sale ${spec.stock}`)
  check('P1', 'MySQL stock = Redis available once traffic stopped', Number(mysqlProduct[0]?.stock) === available, `MySQL ${String(mysqlProduct[0]?.stock)}, Redis ${available ?? 'not on sale'}`)
  check('P2', `no hold awaiting payment past payBy + ${spec.holdBoundMs} ms`, tracker.maxOverdueMs <= spec.holdBoundMs && held === 0,
    `longest seen ${fmt(tracker.maxOverdueMs)} ms past payBy (polled every ${MYSQL_POLL_MS} ms); ${held} still held at the end`)
  check('P3', 'no unit both paid and back on sale', paidAndReturned === 0 && paid + (available ?? 0) <= spec.stock, `${paidAndReturned} paid orders whose units were returned`)
  check('P4', 'a payment is captured at most once per order', [...capturedPerOrder.values()].every((n) => n <= 1), `${[...capturedPerOrder.values()].filter((n) => n > 1).length} orders with more than one captured payment`)
  check('P4', 'every late payment (its order expired first) is refunded, never applied', late.every((p) => p.status !== 'succeeded'),
    `${late.length} late payments: ${late.filter((p) => p.status === 'refunded').length} refunded, ${late.filter((p) => p.status === 'refund_pending').length} refund pending`)
  check('P5', 'every signed webhook answered 200', webhookErrors === 0, `${webhooks} sent, ${webhookErrors} not 200`)
  check('P5', 'units accepted = paid + expired (+ still held)', accepted === paid + expired + held, `accepted ${accepted}, paid ${paid}, expired ${expired}, held ${held}`)

  return {
    spec,
    productId,
    rush: { requestsPerSecond: rushStats.requestsPerSecond, p99Ms: rushStats.latencyMs.p99, accepted: rush.accepted.size },
    retries: { requests: retries, accepted: retryAccepted },
    units: { onSale: spec.stock, accepted, paid, expired, resold: Math.max(0, accepted - spec.stock), heldAtEnd: held, availableAtEnd: available },
    payments: { opened: opened.length, notOpened, webhooks, webhookErrors, latePayments: late.length },
    webhookBurst,
    expiryLag: { expired, measured: lags.length, p50Ms: percentile(lags, 50), p99Ms: percentile(lags, 99), maxMs: percentile(lags, 100), pollMs: POLL_MS },
    checks
  }
}

/** POST /payments for a winner's order, retried while the order is still pending (not in MySQL yet). */
async function openPayment (ctx: PayContext, buyer: BenchBuyer, orderId: string): Promise<OpenPayment | null> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await fetch(`${ctx.paymentsUrl}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: buyer.authorization },
      body: JSON.stringify({ orderId })
    }).catch(() => null)
    const body = await response?.json().catch(() => null) as { paymentId?: string, amount?: number, currency?: string, code?: string, details?: { status?: string } } | null
    if ((response?.status === 200 || response?.status === 201) && typeof body?.paymentId === 'string') {
      return { paymentId: body.paymentId, orderId, amount: Number(body.amount), currency: String(body.currency) }
    }
    // 404: the processor has not written the order yet; 409 pending: the same; anything else is final.
    const waiting = response === null || response.status === 404 || response.status === 503 || (response.status === 409 && body?.details?.status === 'pending')
    if (!waiting) return null
    await sleep(100)
  }
  return null
}

export function payLines (pay: PayReport | null): string[] {
  if (pay === null) return []
  const s = pay.spec
  const w = pay.webhookBurst
  const e = pay.expiryLag
  return ['', `pay: product ${pay.productId}, ${fmt(s.stock)} units at ${s.price} for ${fmt(s.buyers)} buyers, ${s.windowSeconds} s to pay, ${Math.round(s.payShare * 100)} % of winners pay; buyers retry at ${s.retryRate}/s until +${s.horizonSeconds} s:`,
    `  rush: ${fmt(pay.rush.requestsPerSecond)} req/s, p99 ${fmt(pay.rush.p99Ms, 1)} ms, ${fmt(pay.rush.accepted)} accepted; retries: ${fmt(pay.retries.requests)}, ${fmt(pay.retries.accepted)} accepted`,
    `  units: ${fmt(pay.units.paid)} paid, ${fmt(pay.units.expired)} expired, ${fmt(pay.units.resold)} re-sold (accepted ${fmt(pay.units.accepted)} of ${fmt(pay.units.onSale)} on sale); at the end ${fmt(pay.units.heldAtEnd)} held, ${fmt(pay.units.availableAtEnd)} available`,
    `  payments: ${fmt(pay.payments.opened)} opened (${fmt(pay.payments.notOpened)} could not be), ${fmt(pay.payments.webhooks)} webhooks (${fmt(pay.payments.webhookErrors)} not 200), ${fmt(pay.payments.latePayments)} late (order expired first)`,
    `  webhook burst: ${fmt(w.webhooks)} events in ${fmt(w.seconds, 2)} s = ${fmt(w.perSecond)}/s, p99 ${fmt(w.p99Ms, 1)} ms; payment-service CPU ${w.cpuMicrosPerWebhook === null ? '— (pid not found)' : `${fmt(w.cpuMicrosPerWebhook)} µs`} per webhook`,
    `  expiry lag (payBy → units back in Redis, polled every ${e.pollMs} ms): p50 ${e.p50Ms === null ? '—' : `${fmt(e.p50Ms)} ms`}, p99 ${e.p99Ms === null ? '—' : `${fmt(e.p99Ms)} ms`}, max ${e.maxMs === null ? '—' : `${fmt(e.maxMs)} ms`} over ${fmt(e.measured)} of ${fmt(e.expired)} expired`]
}
