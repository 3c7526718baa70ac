import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Pool } from 'mysql2/promise'
import type { Cluster } from 'ioredis'
import type { StockStore } from '@flash/common/stock'
import { runLoad, type LoadRecord } from './load.ts'
import { Sampler } from './sampler.ts'
import { drain, verifySale, type DrainResult, type Verification } from './verify.ts'
import { writeTimes } from './repository.ts'
import { loadStats, memoryOf, type LoadStats, type Report } from './report.ts'
import { componentPids, cpuSnapshot, cpuSeconds, type Component } from './cpu.ts'
import { mintBuyers } from './buyers.ts'
import { Fault, type FaultOutcome, type FaultPlan } from './fault.ts'

// The scenarios of `make bench` (SCENARIOS): each one a product, a burst of buyers, the drain, the
// invariant checks, and what the run cost every component of the machine.
//   sale      STOCK units, REQUESTS buyers: the flash sale itself
//   sold-out  1 unit, everyone else refused; mid-run UNITS_BACK units are restocked, and the report
//             says how long refusals went on after they were back (the I5 window of the memory)
//   accept    every buyer accepted: the whole pipeline per order (gateway, Redis, Kafka, processor, MySQL)
//   backlog   the processor stopped while buyers are accepted, then started: how fast it drains
//   overload  OVERLOAD_CONNECTIONS connections: nothing may wait past 2 s, memory stays bounded

export const SCENARIO_NAMES = ['sale', 'sold-out', 'accept', 'backlog', 'overload'] as const
export type ScenarioName = typeof SCENARIO_NAMES[number]

export interface ScenarioSpec {
  name: ScenarioName
  stock: number
  requests: number
  connections: number
  /** sold-out: units restocked once `afterAnswered` requests were answered */
  unitsBack?: { units: number, afterAnswered: number }
  /** backlog: stop the processor for the burst, start it afterwards */
  processorStopped?: boolean
  /** a broker or MySQL stopped once `afterAccepted` orders were accepted, started `downMs` later (bench/fault.ts) */
  fault?: FaultPlan
}

export interface ScenarioContext {
  pool: Pool
  redis: Cluster
  store: StockStore
  baseUrl: string
  ordersPath: string
  catalogUrl: string
  adminToken: string
  runTag: string
  runDir: string
  sampleMs: number
  timeoutSeconds: number
  drainTimeoutMs: number
  log: (message: string) => void
}

export interface UnitsBack {
  units: number
  /** ms since the first request when the restock was sent */
  sentAtMs: number
  /** ms since the first request when the last restocked unit was sold (null: not all sold) */
  soldAgainAtMs: number | null
  /** ms since the first request when the restock had answered (its units were on sale by then) */
  backAtMs: number
  /** ms from then until the first 202 of a request sent after it */
  firstAcceptedAfterMs: number | null
  /**
   * refusals of requests sent after the units were back and answered before a later-sent request was
   * still accepted: a unit certainly existed when they were decided
   */
  falseRefusals: number
  /** the longest such a refusal was answered after the units were back (0: none) — the I5 window */
  windowMs: number
  /**
   * refusals answered after the last accepted request was sent but before its 202 (which waits for
   * Kafka's ack): the unit may already have been taken, so they are not counted as false
   */
  uncertainRefusals: number
}

export interface ScenarioResult {
  name: ScenarioName
  spec: ScenarioSpec
  productId: number
  load: LoadRecord
  stats: LoadStats
  accepted: number
  /** answers that took longer than 2 s, plus requests never answered */
  slowOver2s: number
  drain: DrainResult
  verification: Verification
  /** MySQL writes of the scenario's orders: first → last, orders per second */
  processor: { orders: number, spanSeconds: number, perSecond: number, keptUp: boolean, peakPerSecond: number }
  writes: Array<{ at: number, n: number }>
  samples: Sampler['samples']
  memory: Report['memory']
  /** CPU seconds per component from the first request until the drain finished */
  cpuSeconds: Partial<Record<Component, number>>
  /** CPU seconds per component from the first request until the last answer */
  cpuSecondsAnswer: Partial<Record<Component, number>>
  /** the fault injected, if one was: when the component was stopped and started again */
  fault: FaultOutcome | null
  unitsBack: UnitsBack | null
}

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const component = (action: 'stop' | 'start', name: string) =>
  run('bash', [`${ROOT}deploy/local/component.sh`, action, name], { cwd: ROOT, timeout: 180_000 })
/** The same, blocking: for a signal handler that must start a stopped component before the bench exits. */
export const componentNow = (action: 'stop' | 'start', name: string): void => {
  spawnSync('bash', [`${ROOT}deploy/local/component.sh`, action, name], { cwd: ROOT, timeout: 180_000, stdio: 'inherit' })
}

/**
 * A product on sale, waited for until Redis holds its units. Price 0 unless `extra` says otherwise: a
 * free product is confirmed at its 202 (no payment window), which is what the classic scenarios measure.
 */
export async function createProduct (ctx: Pick<ScenarioContext, 'catalogUrl' | 'adminToken' | 'store'>, name: string, stock: number, extra: Record<string, unknown> = {}): Promise<number> {
  const response = await fetch(`${ctx.catalogUrl}/products`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.adminToken}` },
    body: JSON.stringify({ name, stock, price: 0, ...extra })
  })
  const body = await response.json() as { id?: number }
  if (response.status !== 201 || typeof body.id !== 'number') throw new Error(`POST /products answered ${response.status}: ${JSON.stringify(body)}`)
  for (let i = 0; (await ctx.store.snapshot(body.id)).available !== stock; i++) {
    if (i > 100) throw new Error(`product ${body.id} is not on sale in Redis with ${stock} units`)
    await sleep(100)
  }
  return body.id
}

async function restock (ctx: ScenarioContext, productId: number, quantity: number): Promise<void> {
  const response = await fetch(`${ctx.catalogUrl}/products/${productId}/restock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.adminToken}` },
    body: JSON.stringify({ quantity })
  })
  await response.arrayBuffer()
  if (response.status !== 200) throw new Error(`restock answered ${response.status}`)
}

export async function runScenario (ctx: ScenarioContext, spec: ScenarioSpec): Promise<ScenarioResult> {
  const productId = await createProduct(ctx, `Bench ${spec.name} ${ctx.runTag}`, spec.stock)
  ctx.log(`${spec.name}: product ${productId}, ${spec.stock} units, ${spec.requests} buyers over ${spec.connections} connections`)
  // Every buyer signed in before the sale (tokens minted with the signing key, untimed).
  const runTag = `${ctx.runTag}${spec.name.replace(/-/g, '')}`
  const authorizations = mintBuyers(spec.requests, runTag).map((b) => b.authorization)
  const pids = componentPids(ctx.runDir)
  if (spec.processorStopped) await component('stop', 'order-processor')

  const sampler = new Sampler({ redis: ctx.redis, productId, runDir: ctx.runDir })
  sampler.start(ctx.sampleMs)
  const cpuBefore = cpuSnapshot(pids)
  let restocked: Promise<number> | null = null
  let restockSentAt = 0
  const fault = spec.fault === undefined ? null : new Fault(spec.fault, ctx.log)
  const load = await runLoad({
    baseUrl: ctx.baseUrl,
    ordersPath: ctx.ordersPath,
    productId,
    requests: spec.requests,
    connections: spec.connections,
    runTag,
    authorizations,
    timeoutSeconds: ctx.timeoutSeconds,
    onAccepted: () => fault?.onAccepted(),
    onAnswered: (answered) => {
      if (spec.unitsBack === undefined || restocked !== null || answered < spec.unitsBack.afterAnswered) return
      restockSentAt = performance.now()
      restocked = restock(ctx, productId, spec.unitsBack.units).then(() => performance.now())
    }
  })
  const loadEndedAt = Date.now()
  const cpuAtAnswers = cpuSnapshot(pids)
  const faultOutcome = fault === null ? null : await fault.over(load.epochAt0)
  const backAt = restocked === null ? null : await restocked
  const stats = loadStats(load)
  ctx.log(`${spec.name}: ${Math.round(stats.requestsPerSecond)} req/s, p99 ${stats.latencyMs.p99.toFixed(1)} ms, ${load.accepted.size} accepted; draining`)

  if (spec.processorStopped) {
    await component('start', 'order-processor')
    pids.set('order-processor', componentPids(ctx.runDir).get('order-processor') ?? [])
  }
  const totalUnits = spec.stock + (spec.unitsBack?.units ?? 0)
  const drained = await drain(ctx.pool, ctx.store, productId, load.accepted.size, ctx.drainTimeoutMs, ctx.sampleMs)
  const cpuAfter = cpuSnapshot(pids)
  await sampler.stop()

  const epochOf = (at: number): number => load.epochAt0 + (at - load.t0)
  const verification = await verifySale({
    pool: ctx.pool, store: ctx.store, productId, stock: totalUnits, load, samples: sampler.samples, drain: drained,
    unitsBack: backAt === null ? null : { sentAt: epochOf(restockSentAt), answeredAt: epochOf(backAt) }
  })

  const writes = await writeTimes(ctx.pool, productId)
  const first = writes[0]
  const last = writes.at(-1)
  const orders = writes.reduce((sum, w) => sum + w.n, 0)
  const spanSeconds = first && last ? (last.at - first.at) / 1000 : 0
  let peak = 0
  for (let i = 0, j = 0, sum = 0; j < writes.length; j++) {
    sum += writes[j]!.n
    while (writes[j]!.at - writes[i]!.at >= 1000) sum -= writes[i++]!.n
    peak = Math.max(peak, sum)
  }
  const acceptedTimes = [...load.accepted.keys()]
  const last202 = acceptedTimes.length ? Math.max(...acceptedTimes.map((i) => load.receivedAt[i] ?? 0)) : null
  const keptUp = last !== undefined && last202 !== null && last.at - (load.epochAt0 + last202) < 500

  let slow = 0
  for (let i = 0; i < load.status.length; i++) {
    if (load.status[i] === 0 || (load.latencyMs[i] ?? 0) > 2000) slow++
  }

  return {
    name: spec.name,
    spec,
    productId,
    load,
    stats,
    accepted: load.accepted.size,
    slowOver2s: slow,
    drain: { ...drained, drainMs: last ? Math.max(0, last.at - loadEndedAt) : drained.drainMs },
    verification,
    processor: {
      orders,
      spanSeconds,
      // The first write's orders were waiting already: the pace is what came after it.
      perSecond: spanSeconds > 0 ? (orders - (first?.n ?? 0)) / spanSeconds : orders,
      keptUp,
      peakPerSecond: peak
    },
    writes,
    samples: sampler.samples,
    memory: memoryOf(sampler.memoryPeaks()),
    cpuSeconds: cpuSeconds(cpuBefore, cpuAfter),
    cpuSecondsAnswer: cpuSeconds(cpuBefore, cpuAtAnswers),
    fault: faultOutcome,
    unitsBack: backAt === null || spec.unitsBack === undefined ? null : unitsBackOf(load, restockSentAt - load.t0, backAt - load.t0, spec.unitsBack.units)
  }
}

/** The I5 window: after the restock answered, how long buyers were still refused while units lasted. */
function unitsBackOf (load: LoadRecord, sentAtMs: number, backAtMs: number, units: number): UnitsBack {
  // The restocked units are the last ones accepted: their 202s are the last `units` answers.
  const acceptedAt = [...load.accepted.keys()].map((i) => load.receivedAt[i] ?? 0).sort((a, b) => a - b)
  const soldAgainAtMs = acceptedAt.length > units ? acceptedAt.at(-1) ?? null : null
  let firstAccepted: number | null = null
  let lastAcceptedAfter = -Infinity
  let lastAcceptedSentAfter = -Infinity
  for (const i of load.accepted.keys()) {
    const sent = load.sentAt[i] ?? -1
    if (sent < backAtMs) continue
    const at = load.receivedAt[i] ?? 0
    firstAccepted = firstAccepted === null ? at : Math.min(firstAccepted, at)
    lastAcceptedAfter = Math.max(lastAcceptedAfter, at)
    lastAcceptedSentAfter = Math.max(lastAcceptedSentAfter, sent)
  }
  let falseRefusals = 0
  let uncertainRefusals = 0
  let windowEnd = backAtMs
  for (const [i, code] of load.codes) {
    if (code !== 'INSUFFICIENT_STOCK') continue
    const sent = load.sentAt[i] ?? -1
    const received = load.receivedAt[i] ?? -1
    if (sent < backAtMs) continue
    // Answered before a request sent later still got a unit: units were left when it was decided.
    if (received < lastAcceptedSentAfter) {
      falseRefusals++
      windowEnd = Math.max(windowEnd, received)
    } else if (received <= lastAcceptedAfter) {
      // Answered while the last accepted order waited for Kafka's ack: it may have had the last unit.
      uncertainRefusals++
    }
  }
  return {
    units,
    sentAtMs,
    soldAgainAtMs,
    backAtMs,
    firstAcceptedAfterMs: firstAccepted === null ? null : firstAccepted - backAtMs,
    falseRefusals,
    windowMs: windowEnd - backAtMs,
    uncertainRefusals
  }
}
