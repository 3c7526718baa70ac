import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Pool, RowDataPacket } from 'mysql2/promise'
import type { Cluster } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import { runLoad, type LoadRecord } from './load.ts'
import { loadStats, perSecond, panel, esc, fmt, type SecondPoint } from './report.ts'
import { benchAuthSecret, mintBuyers } from './buyers.ts'
import { clockTicksPerSecond } from './clock-ticks.ts'
import { componentPids, cpuTicks, type Component } from './cpu.ts'
import { throwawayProductId } from './ceilings.ts'
import { Fault, type FaultOutcome, type FaultPlan } from './fault.ts'
import { ordersOfProduct } from './repository.ts'
import type { ScenarioResult } from './scenarios.ts'

// The `naive` scenario: the same sale (units, buyers, connections, signed-in buyers) against the naive
// app of bench/naive/ — NOT part of the product — on the same stack, and ours ÷ naive for what a
// buyer and the machine see: requests/s, p99, machine CPU per request (until the last answer, and end
// to end until every accepted order is in MySQL), that time itself, and orders lost or oversold. With
// FAULT=kafka|mysql both sales have the same component stopped in the middle (bench/fault.ts).

export interface SideFigures {
  requests: number
  accepted: number
  requestsPerSecond: number
  p99Ms: number
  statusCounts: Record<string, number>
  /** machine CPU µs per request (load generator excluded): first request → last answer */
  cpuMicrosPerRequestAnswer: number
  /** the same, first request → every accepted order in MySQL (or the drain timeout) */
  cpuMicrosPerRequestEndToEnd: number
  /** CPU seconds per component, end to end */
  cpuSeconds: Record<string, number>
  /** ms from the first request until every accepted order was in MySQL (null: not within the timeout) */
  allInMysqlMs: number | null
  /** accepted (202) orders that never reached MySQL */
  lost: number
  /** units in MySQL beyond the units on sale (an order applied twice counts) */
  oversold: number
  /** rows beyond one per accepted order (the same order applied more than once) */
  duplicates: number
  /** orders in MySQL whose buyer never got a 202 (unanswered or refused, yet written) */
  unannounced: number
  /** units in no order (each order counted once) and not on sale in Redis once the drain ended: taken, sold to nobody */
  stranded: number
  seconds: SecondPoint[]
  /** orders in MySQL over time, ms since the first request */
  inMysql: Array<{ ms: number, total: number }>
}

export interface NaiveComparison {
  stock: number
  requests: number
  connections: number
  fault: { ours: FaultOutcome | null, naive: FaultOutcome | null }
  ours: SideFigures
  naive: SideFigures
  /** ours ÷ naive */
  ratios: { requestsPerSecond: number | null, p99: number | null, cpuAnswer: number | null, cpuEndToEnd: number | null, allInMysql: number | null }
}

export interface NaiveContext {
  pool: Pool
  redis: Cluster
  runTag: string
  runDir: string
  redisNodes: string
  kafkaBrokers: string
  mysql: { host: string, port: number, user: string, password: string, database: string }
  timeoutSeconds: number
  drainTimeoutMs: number
  log: (message: string) => void
}

const INFRA: Component[] = ['redis (6 nodes)', 'kafka', 'mariadb']
const LOAD_GENERATOR: Component = 'bench (load generator)'
const ratio = (a: number | null, b: number | null): number | null => a === null || b === null || b === 0 ? null : a / b
const sum = (values: Record<string, number>): number => Object.values(values).reduce((a, b) => a + b, 0)

/** Our side, from the `sale` scenario that ran with the same spec in this run. */
export async function oursOf (pool: Pool, sale: ScenarioResult): Promise<SideFigures> {
  const machine = (cpu: Partial<Record<Component, number>>): Record<string, number> =>
    Object.fromEntries(Object.entries(cpu).filter(([c]) => c !== LOAD_GENERATOR)) as Record<string, number>
  const rows = await ordersOfProduct(pool, sale.productId)
  const ids = new Set(rows.map((r) => r.id))
  const acceptedIds = new Set(sale.load.accepted.values())
  const confirmedUnits = rows.filter((r) => r.status === 'confirmed').reduce((n, r) => n + Number(r.quantity), 0)
  const stock = sale.spec.stock + (sale.spec.unitsBack?.units ?? 0)
  let total = 0
  const last = sale.writes.at(-1)
  return {
    requests: sale.spec.requests,
    accepted: sale.accepted,
    requestsPerSecond: sale.stats.requestsPerSecond,
    p99Ms: sale.stats.latencyMs.p99,
    statusCounts: sale.stats.statusCounts,
    cpuMicrosPerRequestAnswer: sum(machine(sale.cpuSecondsAnswer)) * 1e6 / sale.spec.requests,
    cpuMicrosPerRequestEndToEnd: sum(machine(sale.cpuSeconds)) * 1e6 / sale.spec.requests,
    cpuSeconds: machine(sale.cpuSeconds),
    allInMysqlMs: sale.drain.drained && last !== undefined ? last.at - sale.load.epochAt0 : null,
    lost: [...sale.load.accepted.values()].filter((id) => !ids.has(id)).length,
    oversold: Math.max(0, confirmedUnits - stock),
    duplicates: 0, // the order id is the primary key: a row per order at most
    unannounced: rows.filter((r) => !acceptedIds.has(r.id)).length,
    stranded: sale.verification.redisStock === null ? 0 : Math.max(0, stock - confirmedUnits - sale.verification.redisStock),
    seconds: perSecond(sale.load),
    inMysql: sale.writes.map((w) => ({ ms: w.at - sale.load.epochAt0, total: (total += w.n) }))
  }
}

interface Started { child: ChildProcess, message: Record<string, unknown> }

async function start (script: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const child = fork(new URL(script, import.meta.url), [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [message] = await Promise.race([
    once(child, 'message') as Promise<[Record<string, unknown>]>,
    once(child, 'exit').then(([code]) => { throw new Error(`${script} exited (${String(code)}) before it was ready`) })
  ])
  return { child, message }
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = once(child, 'exit')
  if (child.connected) child.disconnect()
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

async function ensureSchema (pool: Pool): Promise<void> {
  const sql = readFileSync(new URL('./naive/schema.sql', import.meta.url), 'utf8')
  const statements = sql.split(';').map((s) => s.replace(/^\s*--.*$/gm, '').trim()).filter((s) => s !== '')
  for (const statement of statements) await pool.query(statement)
}

async function naiveRows (pool: Pool, productId: number): Promise<{ refs: Map<string, number>, units: number, distinctUnits: number, rows: number }> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT order_ref, quantity FROM bench_naive_orders WHERE product_id = ?', [productId])
  const refs = new Map<string, number>()
  let units = 0
  let distinctUnits = 0
  for (const row of rows) {
    const seen = refs.get(String(row.order_ref)) ?? 0
    refs.set(String(row.order_ref), seen + 1)
    units += Number(row.quantity)
    if (seen === 0) distinctUnits += Number(row.quantity)
  }
  return { refs, units, distinctUnits, rows: rows.length }
}

/** The naive app's sale: its own product, topic, tables and processes; everything removed afterwards. */
export async function runNaive (ctx: NaiveContext, spec: { stock: number, requests: number, connections: number, fault?: FaultPlan }): Promise<{ figures: SideFigures, fault: FaultOutcome | null }> {
  const productId = throwawayProductId()
  const topic = `bench-naive-orders-${ctx.runTag}`
  const stockKey = `bench-naive:{${productId}}:stock`
  await ensureSchema(ctx.pool)
  await ctx.pool.query('INSERT INTO bench_naive_products (id, name, stock) VALUES (?, ?, ?)', [productId, `Bench naive ${ctx.runTag}`, spec.stock])
  await ctx.redis.set(stockKey, spec.stock)
  const kafka = new Kafka({ clientId: 'bench-naive-admin', brokers: ctx.kafkaBrokers.split(','), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 12 }], waitForLeaders: true })
  const env = {
    NAIVE_TOPIC: topic,
    NAIVE_GROUP: `bench-naive-${ctx.runTag}`,
    REDIS_NODES: ctx.redisNodes,
    KAFKA_BROKERS: ctx.kafkaBrokers,
    AUTH_JWT_SECRET: benchAuthSecret(),
    MYSQL_HOST: ctx.mysql.host,
    MYSQL_PORT: String(ctx.mysql.port),
    MYSQL_USER: ctx.mysql.user,
    MYSQL_PASSWORD: ctx.mysql.password,
    MYSQL_DATABASE: ctx.mysql.database
  }
  const children: ChildProcess[] = []
  try {
    const app = await start('./naive/app.ts', env)
    children.push(app.child)
    const consumer = await start('./naive/consumer.ts', env)
    children.push(consumer.child)
    ctx.log(`naive: product ${productId}, ${spec.stock} units, ${spec.requests} buyers; app pid ${app.child.pid}, consumer pid ${consumer.child.pid}, topic ${topic}`)

    const infra = componentPids(ctx.runDir)
    const pids = new Map<string, number[]>([['naive app', [app.child.pid ?? 0]], ['naive consumer', [consumer.child.pid ?? 0]]])
    for (const c of INFRA) { const list = infra.get(c); if (list !== undefined) pids.set(c, list) }
    const snapshot = (): Map<string, number> => new Map([...pids].map(([c, list]) => [c, list.reduce((n, pid) => n + (cpuTicks(pid) ?? 0), 0)]))
    const seconds = (a: Map<string, number>, b: Map<string, number>): Record<string, number> =>
      Object.fromEntries([...b].map(([c, ticks]) => [c, Math.max(0, ticks - (a.get(c) ?? ticks)) / clockTicksPerSecond]))

    const fault = spec.fault === undefined ? null : new Fault(spec.fault, ctx.log)
    const before = snapshot()
    const load: LoadRecord = await runLoad({
      baseUrl: `http://127.0.0.1:${Number(app.message.port)}`,
      ordersPath: '/orders',
      productId,
      requests: spec.requests,
      connections: spec.connections,
      runTag: `${ctx.runTag}naive`,
      authorizations: mintBuyers(spec.requests, `${ctx.runTag}naive`).map((b) => b.authorization),
      timeoutSeconds: ctx.timeoutSeconds,
      onAccepted: () => fault?.onAccepted()
    })
    const atAnswers = snapshot()
    const faultOutcome = fault === null ? null : await fault.over(load.epochAt0)
    const stats = loadStats(load)
    ctx.log(`naive: ${Math.round(stats.requestsPerSecond)} req/s, p99 ${stats.latencyMs.p99.toFixed(1)} ms, ${load.accepted.size} accepted; draining`)

    // Every accepted order in MySQL, or the timeout (the naive consumer may never get there).
    const accepted = new Set(load.accepted.values())
    const drainStart = performance.now()
    let inMysql = 0
    for (;;) {
      const { refs } = await naiveRows(ctx.pool, productId)
      inMysql = [...accepted].filter((id) => refs.has(id)).length
      if (inMysql >= accepted.size || performance.now() - drainStart > ctx.drainTimeoutMs) break
      await sleep(250)
    }
    const after = snapshot()
    const cpuAnswer = seconds(before, atAnswers)
    const cpuEnd = seconds(before, after)
    const { refs, units, distinctUnits, rows } = await naiveRows(ctx.pool, productId)
    const [writes] = await ctx.pool.query<RowDataPacket[]>(
      'SELECT inserted_at AS at, COUNT(*) AS n FROM bench_naive_orders WHERE product_id = ? GROUP BY inserted_at ORDER BY inserted_at', [productId])
    let total = 0
    const series = writes.map((w) => ({ ms: (w.at as Date).getTime() - load.epochAt0, total: (total += Number(w.n)) }))
    const lastWrite = series.at(-1)
    return {
      fault: faultOutcome,
      figures: {
        requests: spec.requests,
        accepted: load.accepted.size,
        requestsPerSecond: stats.requestsPerSecond,
        p99Ms: stats.latencyMs.p99,
        statusCounts: stats.statusCounts,
        cpuMicrosPerRequestAnswer: sum(cpuAnswer) * 1e6 / spec.requests,
        cpuMicrosPerRequestEndToEnd: sum(cpuEnd) * 1e6 / spec.requests,
        cpuSeconds: cpuEnd,
        allInMysqlMs: inMysql >= accepted.size && lastWrite !== undefined ? lastWrite.ms : null,
        lost: [...accepted].filter((id) => !refs.has(id)).length,
        oversold: Math.max(0, units - spec.stock),
        duplicates: rows - refs.size,
        unannounced: [...refs.keys()].filter((id) => !accepted.has(id)).length,
        stranded: Math.max(0, spec.stock - distinctUnits - Math.max(0, Number(await ctx.redis.get(stockKey) ?? 0))),
        seconds: perSecond(load),
        inMysql: series
      }
    }
  } finally {
    await Promise.allSettled(children.map(stop))
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.disconnect()
    await ctx.redis.del(stockKey).catch(() => {})
    await ctx.pool.query('DELETE FROM bench_naive_orders WHERE product_id = ?', [productId]).catch(() => {})
    await ctx.pool.query('DELETE FROM bench_naive_products WHERE id = ?', [productId]).catch(() => {})
  }
}

export function compare (ours: SideFigures, naive: SideFigures, spec: { stock: number, requests: number, connections: number }, fault: NaiveComparison['fault']): NaiveComparison {
  return {
    ...spec,
    fault,
    ours,
    naive,
    ratios: {
      requestsPerSecond: ratio(ours.requestsPerSecond, naive.requestsPerSecond),
      p99: ratio(ours.p99Ms, naive.p99Ms),
      cpuAnswer: ratio(ours.cpuMicrosPerRequestAnswer, naive.cpuMicrosPerRequestAnswer),
      cpuEndToEnd: ratio(ours.cpuMicrosPerRequestEndToEnd, naive.cpuMicrosPerRequestEndToEnd),
      allInMysql: ratio(ours.allInMysqlMs, naive.allInMysqlMs)
    }
  }
}

const x = (r: number | null): string => r === null ? '—' : `${r.toFixed(2)}×`

export function naiveLines (c: NaiveComparison | null): string[] {
  if (c === null) return []
  const faulted = (f: FaultOutcome | null): string => f === null ? '' : ` ${f.name} stopped at +${fmt(f.stoppedAtMs)} ms, back ${f.startedAtMs === null ? `never (${f.error ?? ''})` : `at +${fmt(f.startedAtMs)} ms`}`
  const rows: Array<[string, string, string, string]> = [
    ['', 'ours', 'naive', 'ours ÷ naive'],
    ['requests/s', fmt(c.ours.requestsPerSecond), fmt(c.naive.requestsPerSecond), x(c.ratios.requestsPerSecond)],
    ['p99 ms', fmt(c.ours.p99Ms, 1), fmt(c.naive.p99Ms, 1), x(c.ratios.p99)],
    ['machine CPU µs/request, to the last answer', fmt(c.ours.cpuMicrosPerRequestAnswer), fmt(c.naive.cpuMicrosPerRequestAnswer), x(c.ratios.cpuAnswer)],
    ['machine CPU µs/request, end to end (drain)', fmt(c.ours.cpuMicrosPerRequestEndToEnd), fmt(c.naive.cpuMicrosPerRequestEndToEnd), x(c.ratios.cpuEndToEnd)],
    ['every accepted order in MySQL after', c.ours.allInMysqlMs === null ? 'NOT within the timeout' : `${fmt(c.ours.allInMysqlMs)} ms`, c.naive.allInMysqlMs === null ? 'NOT within the timeout' : `${fmt(c.naive.allInMysqlMs)} ms`, x(c.ratios.allInMysql)],
    ['accepted (202)', fmt(c.ours.accepted), fmt(c.naive.accepted), ''],
    ['orders lost (202, never in MySQL)', fmt(c.ours.lost), fmt(c.naive.lost), ''],
    ['units oversold (MySQL beyond stock)', fmt(c.ours.oversold), fmt(c.naive.oversold), ''],
    ['orders applied twice', fmt(c.ours.duplicates), fmt(c.naive.duplicates), ''],
    ['orders in MySQL no buyer was told of (no 202)', fmt(c.ours.unannounced), fmt(c.naive.unannounced), ''],
    ['units stranded (neither sold nor on sale)', fmt(c.ours.stranded), fmt(c.naive.stranded), ''],
    ['status counts', Object.entries(c.ours.statusCounts).map(([k, v]) => `${k}: ${v}`).join(' '), Object.entries(c.naive.statusCounts).map(([k, v]) => `${k}: ${v}`).join(' '), '']
  ]
  const widths = [0, 1, 2].map((k) => Math.max(...rows.map((r) => r[k]!.length)))
  const cpu = (side: SideFigures): string => Object.entries(side.cpuSeconds).map(([k, v]) => `${k} ${fmt(v * 1e6 / side.requests)}`).join(', ')
  return ['', `naive: the same sale (${fmt(c.stock)} units, ${fmt(c.requests)} buyers, ${c.connections} connections) against bench/naive/ (not part of the product)${c.fault.ours || c.fault.naive ? `; fault: ours${faulted(c.fault.ours)}; naive${faulted(c.fault.naive)}` : ''}:`,
    ...rows.map((r) => `  ${r[0].padEnd(widths[0]!)}  ${r[1].padEnd(widths[1]!)}  ${r[2].padEnd(widths[2]!)}  ${r[3]}`),
    `  CPU µs/request by component, end to end — ours: ${cpu(c.ours)}`,
    `                                             naive: ${cpu(c.naive)}`]
}

/** The comparison as a chart: answers per second, and orders in MySQL over time, ours beside naive. */
export function renderNaiveSvg (c: NaiveComparison, runId: string): string {
  const width = 900
  const mid = (s: SecondPoint): number => s.second + 0.5
  const xMax = Math.max(c.ours.seconds.length, c.naive.seconds.length, ...c.ours.inMysql.map((p) => p.ms / 1000), ...c.naive.inMysql.map((p) => p.ms / 1000), 1)
  const lines = naiveLines(c).slice(2, 7)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="600" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">ours vs a naive flash sale (${esc(runId)}): ${fmt(c.requests)} buyers for ${fmt(c.stock)} units, ${c.connections} connections</text>
${panel(55, 150, width, xMax, 'answers per second', [
    { points: c.ours.seconds.map((s) => [mid(s), s.responses]), color: '#1f77b4', label: 'ours' },
    { points: c.naive.seconds.map((s) => [mid(s), s.responses]), color: '#d62728', label: 'naive' }
  ])}
${panel(260, 150, width, xMax, 'accepted orders in MySQL', [
    { points: c.ours.inMysql.map((p) => [p.ms / 1000, p.total]), color: '#1f77b4', label: 'ours', step: true },
    { points: c.naive.inMysql.map((p) => [p.ms / 1000, p.total]), color: '#d62728', label: 'naive', step: true }
  ])}
<text x="${width / 2}" y="440" font-size="11" text-anchor="middle">seconds since the first request</text>
${lines.map((line, i) => `<text x="70" y="${475 + i * 18}" font-size="12" font-family="monospace" xml:space="preserve">${esc(line)}</text>`).join('\n')}
</svg>
`
}

/** Writes <runId>-naive.svg and latest-naive.svg. */
export function writeNaiveSvg (c: NaiveComparison, runId: string, dir: string): string {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${runId}-naive.svg`)
  writeFileSync(file, renderNaiveSvg(c, runId))
  copyFileSync(file, join(dir, 'latest-naive.svg'))
  return file
}
