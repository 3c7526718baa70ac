import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { createMysqlPool, createRedisCluster } from '@flash/common/clients'
import { loadConfig, MysqlEnv, RedisEnv, AdminEnv } from '@flash/common/platform'
import { StockStore } from '@flash/common/stock'
import { httpCeiling, redisCeiling, sqlCeiling } from './ceilings.ts'
import { fmt, loadStats, perSecond, renderTable, stockSeries, writeReport, type Report, type ScenarioSummary, type Target } from './report.ts'
import { runScenario, SCENARIO_NAMES, type ScenarioName, type ScenarioResult, type ScenarioSpec } from './scenarios.ts'
import { measureFloor, type FloorReport } from './floor.ts'
import { compare, oursOf, runNaive, writeNaiveSvg, type NaiveComparison } from './versus-naive.ts'
import { FAULT_NAMES, type FaultName, type FaultPlan } from './fault.ts'
import { runPay, type PayReport, type PaySpec } from './pay.ts'
import { runCrowd, type CrowdReport, type CrowdSpec } from './crowd.ts'
import { COMPONENTS, pidFile } from './cpu.ts'
import { mintBuyers, measureVerifyCost } from './buyers.ts'

// Node 24 runs this TypeScript directly; `make bench` and `bin/node bench/flash-sale.ts` find it. An
// older Node that strips types (22.18+) gets this far: stop with the fix, not a confusing failure later.
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`bench/flash-sale.ts needs Node 24 (this is ${process.version}): run \`make bench\` or \`bin/node bench/flash-sale.ts\``)
  process.exit(1)
}

// `make bench`: a flash sale against the stack that is up, its invariants checked from MySQL and Redis,
// and the ceilings of this machine measured in the same run. Every knob is an environment variable:
//
//   SCENARIOS=sale,sold-out,accept,backlog,overload,floor,naive,pay   which scenarios, in this order
//                                                  (bench/scenarios.ts; floor: bench/floor.ts; crowd only
//                                                  when named: bench/crowd.ts)
//   FLOOR_REQUESTS=20000 FLOOR_ACCEPTED=5000 FLOOR_ROUNDS=3   floor: requests per case and round
//   FLOOR_GATEWAYS=main=http://127.0.0.1:3002,mine=http://127.0.0.1:3102   floor: several gateways, same
//                                                  rounds (default: GATEWAY_URL alone; targets: the first)
//   naive: the sale's STOCK/REQUESTS/CONNECTIONS against bench/naive/ (not part of the product), beside ours
//   FAULT=kafka|mysql FAULT_SECONDS=3              naive: stop that component a third into both sales' units
//   PAY_STOCK=5000 PAY_BUYERS=20000 PAY_WINDOW_SECONDS=20 PAY_SHARE=0.7 PAY_PRICE=1999 PAY_RETRY_RATE=200
//   PAY_HORIZON_SECONDS=(2 windows + 10) PAY_HOLD_BOUND_MS=5000 PAY_WEBHOOK_CONCURRENCY=50
//   PAYMENTS_URL=http://127.0.0.1:3004             pay: a priced sale with a payment window (bench/pay.ts)
//   CROWD_BUYERS=50000 CROWD_STOCK=2000 CROWD_CONNECTIONS=1000 CROWD_JOIN_SECONDS=20 CROWD_RETRY_MS=200
//   CROWD_PROBES=50 CROWD_DEADLINE_SECONDS=180     crowd: the same crowd with the waiting room and without
//                                                  it (bench/crowd.ts)
//                                                  (it stops what everyone on the machine shares)
//   STOCK=20000 REQUESTS=100000 CONNECTIONS=100   sale: units on sale, buyers (one unit each), connections
//   SOLD_OUT_REQUESTS=50000 UNITS_BACK=50          sold-out: buyers for 1 unit; units restocked mid-run
//   ACCEPT_ORDERS=50000 BACKLOG_ORDERS=40000       accept / backlog: buyers, every one accepted
//   OVERLOAD_CONNECTIONS=1000 OVERLOAD_STOCK=5000 OVERLOAD_REQUESTS=60000
//   BENCH_PATH=gateway|nginx                       straight at the gateway, or through nginx (/api)
//   TARGET=<base url of /orders>                   overrides what BENCH_PATH picks
//   GATEWAY_URL, CATALOG_URL, NGINX_URL            where the stack answers (defaults: :3002 :3001 :8080)
//   ADMIN_TOKEN=local-only-flash-sale-admin-token-replace-me-in-any-real-deployment              creates the product
//   CEILINGS=full|short|off                        short: a tenth of the Redis/SQL work (make test)
//   REDIS_CEILING_OPS=200000 REDIS_CEILING_CONCURRENCY=100
//   SQL_CEILING_ROWS=100000 SQL_CEILING_BATCH=500 SQL_CEILING_CONCURRENCY=2
//   SAMPLE_MS=250 TIMEOUT_SECONDS=10 DRAIN_TIMEOUT_SECONDS=120
//   RESULTS_DIR=bench/results  LOCAL_RUN_DIR=.local/run  START_STACK=1 (run `make local` if nothing answers)
//   STRICT_TARGETS=0                               1: a missed target fails the run too
//   MYSQL_* and REDIS_NODES as for the services

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Scenarios with their own runner and their own section of the report (not a product sale of runScenario). */
const OWN_RUNNER = ['floor', 'naive', 'pay', 'crowd'] as const
type OwnRunnerName = typeof OWN_RUNNER[number]
const ALL_SCENARIOS = [...SCENARIO_NAMES, ...OWN_RUNNER] as const
/**
 * What runs without SCENARIOS: all but `crowd`, which saturates both cores for minutes (50,000 buyers
 * twice) and runs when named (bench/README.md).
 */
const DEFAULT_SCENARIOS = ALL_SCENARIOS.filter((name) => name !== 'crowd')
type AnyScenarioName = ScenarioName | OwnRunnerName
const hasOwnRunner = (name: AnyScenarioName): name is OwnRunnerName => (OWN_RUNNER as readonly string[]).includes(name)

export interface Knobs {
  SCENARIOS: AnyScenarioName[]
  FLOOR_REQUESTS: number
  FLOOR_ACCEPTED: number
  FLOOR_ROUNDS: number
  FLOOR_GATEWAYS: Array<{ label: string, url: string }>
  FAULT: FaultName | null
  FAULT_SECONDS: number
  PAY: Omit<PaySpec, 'connections'>
  PAYMENTS_URL: string
  CROWD: Omit<CrowdSpec, 'timeoutSeconds'>
  SOLD_OUT_REQUESTS: number
  UNITS_BACK: number
  ACCEPT_ORDERS: number
  BACKLOG_ORDERS: number
  OVERLOAD_CONNECTIONS: number
  OVERLOAD_STOCK: number
  OVERLOAD_REQUESTS: number
  STOCK: number
  REQUESTS: number
  CONNECTIONS: number
  BENCH_PATH: 'gateway' | 'nginx'
  TARGET: string
  GATEWAY_URL: string
  CATALOG_URL: string
  NGINX_URL: string
  ADMIN_TOKEN: string
  CEILINGS: 'full' | 'short' | 'off'
  REDIS_CEILING_OPS: number
  REDIS_CEILING_CONCURRENCY: number
  SQL_CEILING_ROWS: number
  SQL_CEILING_BATCH: number
  SQL_CEILING_CONCURRENCY: number
  SAMPLE_MS: number
  TIMEOUT_SECONDS: number
  DRAIN_TIMEOUT_SECONDS: number
  RESULTS_DIR: string
  LOCAL_RUN_DIR: string
  START_STACK: boolean
  STRICT_TARGETS: boolean
}

export function readKnobs (env: NodeJS.ProcessEnv = process.env): Knobs {
  const int = (name: string, fallback: number, min = 1): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min) throw new Error(`${name}=${JSON.stringify(raw)}: expected an integer ≥ ${min}`)
    return value
  }
  const share = (name: string, fallback: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!(value >= 0 && value <= 1)) throw new Error(`${name}=${JSON.stringify(raw)}: expected a share between 0 and 1`)
    return value
  }
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    if (!(allowed as readonly string[]).includes(raw)) throw new Error(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`)
    return raw as T
  }
  const path = oneOf('BENCH_PATH', ['gateway', 'nginx'] as const, 'gateway')
  const gateway = env.GATEWAY_URL || 'http://127.0.0.1:3002'
  const nginx = env.NGINX_URL || 'http://127.0.0.1:8080'
  const stock = int('STOCK', 20_000)
  const requests = int('REQUESTS', 100_000)
  const connections = int('CONNECTIONS', 100)
  if (connections > requests) throw new Error(`CONNECTIONS=${connections} is more than REQUESTS=${requests}`)
  const scenarios = (env.SCENARIOS || DEFAULT_SCENARIOS.join(',')).split(',').map((name) => name.trim()).filter((name) => name !== '')
  for (const name of scenarios) {
    if (!(ALL_SCENARIOS as readonly string[]).includes(name)) throw new Error(`SCENARIOS: ${JSON.stringify(name)} is not one of ${ALL_SCENARIOS.join(', ')}`)
  }
  return {
    SCENARIOS: scenarios as AnyScenarioName[],
    FLOOR_REQUESTS: int('FLOOR_REQUESTS', 20_000),
    FLOOR_ACCEPTED: int('FLOOR_ACCEPTED', 5000),
    FLOOR_ROUNDS: int('FLOOR_ROUNDS', 3),
    FLOOR_GATEWAYS: env.FLOOR_GATEWAYS
      ? env.FLOOR_GATEWAYS.split(',').map((entry) => {
        const [label = '', url = ''] = entry.split('=')
        if (label === '' || !/^https?:\/\//.test(url)) throw new Error(`FLOOR_GATEWAYS: ${JSON.stringify(entry)} is not label=http://host:port`)
        return { label, url: url.replace(/\/+$/, '') }
      })
      : [{ label: 'gateway', url: gateway }],
    FAULT: env.FAULT ? oneOf('FAULT', FAULT_NAMES, 'kafka') : null,
    FAULT_SECONDS: int('FAULT_SECONDS', 3),
    PAY: {
      stock: int('PAY_STOCK', 5000),
      buyers: int('PAY_BUYERS', 20_000),
      windowSeconds: int('PAY_WINDOW_SECONDS', 20, 5),
      payShare: share('PAY_SHARE', 0.7),
      price: int('PAY_PRICE', 1999),
      retryRate: int('PAY_RETRY_RATE', 200),
      horizonSeconds: int('PAY_HORIZON_SECONDS', 2 * int('PAY_WINDOW_SECONDS', 20, 5) + 10),
      holdBoundMs: int('PAY_HOLD_BOUND_MS', 5000, 0),
      webhookConcurrency: int('PAY_WEBHOOK_CONCURRENCY', 50)
    },
    PAYMENTS_URL: (env.PAYMENTS_URL || 'http://127.0.0.1:3004').replace(/\/+$/, ''),
    CROWD: {
      buyers: int('CROWD_BUYERS', 50_000),
      stock: int('CROWD_STOCK', 2000),
      connections: int('CROWD_CONNECTIONS', 1000),
      joinSeconds: int('CROWD_JOIN_SECONDS', 20),
      retryMs: int('CROWD_RETRY_MS', 200),
      probes: int('CROWD_PROBES', 50, 0),
      deadlineSeconds: int('CROWD_DEADLINE_SECONDS', 180)
    },
    SOLD_OUT_REQUESTS: int('SOLD_OUT_REQUESTS', 50_000),
    UNITS_BACK: int('UNITS_BACK', 50),
    ACCEPT_ORDERS: int('ACCEPT_ORDERS', 50_000),
    BACKLOG_ORDERS: int('BACKLOG_ORDERS', 40_000),
    OVERLOAD_CONNECTIONS: int('OVERLOAD_CONNECTIONS', 1000),
    OVERLOAD_STOCK: int('OVERLOAD_STOCK', 5000),
    OVERLOAD_REQUESTS: int('OVERLOAD_REQUESTS', 60_000),
    STOCK: stock,
    REQUESTS: requests,
    CONNECTIONS: connections,
    BENCH_PATH: path,
    TARGET: (env.TARGET || (path === 'nginx' ? `${nginx}/api` : gateway)).replace(/\/+$/, ''),
    GATEWAY_URL: gateway,
    CATALOG_URL: env.CATALOG_URL || 'http://127.0.0.1:3001',
    NGINX_URL: nginx,
    ADMIN_TOKEN: env.ADMIN_TOKEN || 'local-only-flash-sale-admin-token-replace-me-in-any-real-deployment',
    CEILINGS: oneOf('CEILINGS', ['full', 'short', 'off'] as const, 'full'),
    REDIS_CEILING_OPS: int('REDIS_CEILING_OPS', 200_000),
    REDIS_CEILING_CONCURRENCY: int('REDIS_CEILING_CONCURRENCY', 100),
    SQL_CEILING_ROWS: int('SQL_CEILING_ROWS', 100_000),
    SQL_CEILING_BATCH: int('SQL_CEILING_BATCH', 500),
    SQL_CEILING_CONCURRENCY: int('SQL_CEILING_CONCURRENCY', 2),
    SAMPLE_MS: int('SAMPLE_MS', 250, 10),
    TIMEOUT_SECONDS: int('TIMEOUT_SECONDS', 10),
    DRAIN_TIMEOUT_SECONDS: int('DRAIN_TIMEOUT_SECONDS', 120),
    RESULTS_DIR: env.RESULTS_DIR || join(ROOT, 'bench', 'results'),
    LOCAL_RUN_DIR: env.LOCAL_RUN_DIR || join(ROOT, '.local', 'run'),
    START_STACK: env.START_STACK !== '0',
    STRICT_TARGETS: env.STRICT_TARGETS === '1'
  }
}

const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }

async function answers (url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
    await response.arrayBuffer()
    return response.ok
  } catch { return false }
}

/** The stack that is up, or `make local` when nothing answers. */
async function ensureStack (knobs: Knobs): Promise<void> {
  const needed = [`${knobs.GATEWAY_URL}/health/live`, `${knobs.CATALOG_URL}/health/live`]
  if (knobs.BENCH_PATH === 'nginx') needed.push(`${knobs.NGINX_URL}/`)
  const down = async (): Promise<string[]> => (await Promise.all(needed.map(async (u) => (await answers(u)) ? null : u))).filter((u) => u !== null)
  let missing = await down()
  if (missing.length === 0) return
  if (!knobs.START_STACK) throw new Error(`nothing answers at ${missing.join(', ')} (START_STACK=0)`)
  log(`nothing answers at ${missing.join(', ')}: starting make local`)
  const make = spawnSync('make', ['local'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
  if (make.status !== 0) throw new Error(`make local failed (exit ${make.status})`)
  missing = await down()
  if (missing.length > 0) throw new Error(`still nothing at ${missing.join(', ')} after make local`)
}

/**
 * `make test` starts its broker with the client compiler only (scripts/run-tests.sh): on a stack it
 * left up, the report's Kafka CPU is not what the broker costs with Kafka's own settings. Says so.
 */
function warnLightBroker (runDir: string): void {
  const pid = pidFile(runDir, 'kafka')
  if (pid === null) return // no local broker (compose, or another machine's)
  let cmdline = ''
  try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8') } catch { return } // it just ended
  if (cmdline.includes('TieredStopAtLevel=1')) {
    log('the broker runs with the client compiler only (as `make test` starts it): its CPU here is not what it costs with Kafka\'s settings; ' +
      '`bash deploy/local/component.sh stop kafka; bash deploy/local/component.sh start kafka` restarts it with them')
  }
}

const ratio = (a: number | undefined | null, b: number | undefined | null): number | null =>
  a === undefined || a === null || b === undefined || b === null || b === 0 ? null : a / b

export interface BenchOutcome { report: Report, files: { json: string, svg: string, markdown: string }, passed: boolean }

export async function runBench (knobs: Knobs = readKnobs()): Promise<BenchOutcome> {
  const started = new Date()
  const runId = started.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-') + '-' + Math.random().toString(36).slice(2, 6)
  const runTag = runId.replace(/-/g, '')
  await ensureStack(knobs)
  warnLightBroker(knobs.LOCAL_RUN_DIR)

  const config = loadConfig({ ...MysqlEnv, ...RedisEnv, ...AdminEnv })
  const pool = createMysqlPool(config, { connectionLimit: Math.max(2, knobs.SQL_CEILING_CONCURRENCY) })
  const redis = createRedisCluster(config.REDIS_NODES)
  const store = new StockStore(redis)
  try {
    // 1. the scenarios, one product each
    const target = new URL(knobs.TARGET)
    const context = {
      pool, redis, store,
      baseUrl: target.origin,
      ordersPath: `${target.pathname.replace(/\/+$/, '')}/orders`,
      catalogUrl: knobs.CATALOG_URL,
      adminToken: knobs.ADMIN_TOKEN,
      runTag,
      runDir: knobs.LOCAL_RUN_DIR,
      sampleMs: knobs.SAMPLE_MS,
      timeoutSeconds: knobs.TIMEOUT_SECONDS,
      drainTimeoutMs: knobs.DRAIN_TIMEOUT_SECONDS * 1000,
      log
    }
    const results: ScenarioResult[] = []
    let floor: FloorReport | null = null
    let naive: NaiveComparison | null = null
    let naiveChart: string | null = null
    let pay: PayReport | null = null
    let crowd: CrowdReport | null = null
    for (const name of knobs.SCENARIOS) {
      if (name === 'crowd') {
        crowd = await runCrowd({
          pool, redis, store, log, runTag, runDir: knobs.LOCAL_RUN_DIR, sampleMs: knobs.SAMPLE_MS, drainTimeoutMs: knobs.DRAIN_TIMEOUT_SECONDS * 1000,
          gatewayUrl: knobs.GATEWAY_URL, catalogUrl: knobs.CATALOG_URL, adminToken: knobs.ADMIN_TOKEN
        }, { ...knobs.CROWD, timeoutSeconds: knobs.TIMEOUT_SECONDS })
        continue
      }
      if (name === 'pay') {
        if (!(await answers(`${knobs.PAYMENTS_URL}/health/live`))) {
          log(`pay: skipped (no payment-service answers at ${knobs.PAYMENTS_URL})`)
          continue
        }
        pay = await runPay({
          pool, redis, store, log, runTag,
          gatewayUrl: knobs.GATEWAY_URL, catalogUrl: knobs.CATALOG_URL, paymentsUrl: knobs.PAYMENTS_URL,
          adminToken: knobs.ADMIN_TOKEN, timeoutSeconds: knobs.TIMEOUT_SECONDS
        }, { ...knobs.PAY, connections: knobs.CONNECTIONS })
        continue
      }
      if (name === 'naive') {
        const sale = specOf(knobs, 'sale')
        const fault: FaultPlan | undefined = knobs.FAULT === null ? undefined : { name: knobs.FAULT, afterAccepted: Math.floor(sale.stock / 3), downMs: knobs.FAULT_SECONDS * 1000 }
        // Ours: the sale of this run with the same spec, else one run now (with the fault, always its own).
        let ours = fault === undefined ? results.find((r) => r.name === 'sale' && r.fault === null) : undefined
        if (ours === undefined) {
          ours = await runScenario(context, { ...sale, ...(fault === undefined ? {} : { fault }) })
          results.push(ours)
        }
        const side = await runNaive({
          pool, redis, runTag, runDir: knobs.LOCAL_RUN_DIR, log,
          redisNodes: config.REDIS_NODES, kafkaBrokers: process.env.KAFKA_BROKERS || '127.0.0.1:9092',
          mysql: { host: config.MYSQL_HOST, port: config.MYSQL_PORT, user: config.MYSQL_USER, password: config.MYSQL_PASSWORD, database: config.MYSQL_DATABASE },
          timeoutSeconds: knobs.TIMEOUT_SECONDS, drainTimeoutMs: knobs.DRAIN_TIMEOUT_SECONDS * 1000
        }, { stock: sale.stock, requests: sale.requests, connections: sale.connections, ...(fault === undefined ? {} : { fault }) })
        naive = compare(await oursOf(pool, ours), side.figures, { stock: sale.stock, requests: sale.requests, connections: sale.connections }, { ours: ours.fault, naive: side.fault })
        naiveChart = writeNaiveSvg(naive, runId, knobs.RESULTS_DIR)
        continue
      }
      if (hasOwnRunner(name)) {
        floor = await measureFloor({
          gateways: knobs.FLOOR_GATEWAYS, catalogUrl: knobs.CATALOG_URL, adminToken: knobs.ADMIN_TOKEN, store, runTag, log,
          requests: knobs.FLOOR_REQUESTS, acceptedRequests: knobs.FLOOR_ACCEPTED, connections: knobs.CONNECTIONS,
          rounds: knobs.FLOOR_ROUNDS, timeoutSeconds: knobs.TIMEOUT_SECONDS
        })
        continue
      }
      if (name === 'backlog' && !existsSync(join(knobs.LOCAL_RUN_DIR, 'order-processor.pid'))) {
        log('backlog: skipped (it stops and starts the processor of `make local`, whose pid file is missing)')
        continue
      }
      results.push(await runScenario(context, specOf(knobs, name)))
    }
    // The first product sale is the one the report details; a run of own-runner scenarios alone has none.
    const primary = results[0]
    if (primary === undefined && floor === null && naive === null && pay === null && crowd === null) throw new Error('no scenario ran')
    const ceilingRequests = primary?.spec.requests ?? knobs.REQUESTS
    const ceilingConnections = primary?.spec.connections ?? knobs.CONNECTIONS

    // 2. ceilings, after the scenarios so their leftovers (a big ledger, deleted rows) never slow them
    let http: Report['ceilings']['http'] = null
    let redisRate: Report['ceilings']['redis'] = null
    let sqlRate: Report['ceilings']['sql'] = null
    if (knobs.CEILINGS !== 'off') {
      const short = knobs.CEILINGS === 'short' ? 10 : 1
      log('ceiling: bare Fastify route')
      const bare = await httpCeiling({
        requests: ceilingRequests, connections: ceilingConnections, runTag, timeoutSeconds: knobs.TIMEOUT_SECONDS,
        authorizations: mintBuyers(ceilingRequests, `${runTag}bare`).map((b) => b.authorization)
      })
      http = { ...loadStats(bare), path: 'bare Fastify, direct' }
      log('ceiling: reservation script alone')
      redisRate = await redisCeiling(redis, { operations: Math.ceil(knobs.REDIS_CEILING_OPS / short), concurrency: knobs.REDIS_CEILING_CONCURRENCY })
      log('ceiling: batched inserts')
      sqlRate = await sqlCeiling(pool, { rows: Math.ceil(knobs.SQL_CEILING_ROWS / short), batch: knobs.SQL_CEILING_BATCH, concurrency: knobs.SQL_CEILING_CONCURRENCY, runTag })
    }

    // 3. report
    const tokenCost = measureVerifyCost(5000)
    const summaries = results.map((r) => summarize(r, http?.requestsPerSecond ?? null, sqlRate?.perSecond ?? null))
    const ratios = {
      gatewayToHttp: ratio(primary?.stats.requestsPerSecond, http?.requestsPerSecond),
      processorToSql: ratio(primary?.processor.perSecond, sqlRate?.perSecond),
      gatewayToRedis: ratio(primary?.stats.requestsPerSecond, redisRate?.perSecond)
    }
    const targets = [...targetsOf(knobs, results, summaries), ...floorTargets(floor), ...payTargets(pay), ...crowdTargets(crowd)]
    const allChecks = [
      ...results.flatMap((r) => r.verification.checks.map((c) => ({ ...c, name: `[${r.name}] ${c.name}` }))),
      ...(pay?.checks ?? []).map((c) => ({ ...c, name: `[pay] ${c.name}` })),
      ...(crowd === null ? [] : [crowd.room, crowd.noRoom]).flatMap((side) => side.checks.map((c) => ({ ...c, name: `[crowd, ${side.mode}] ${c.name}` })))
    ]
    const report: Report = {
      runId,
      startedAt: started.toISOString(),
      machine: { cpus: availableParallelism(), node: process.version },
      knobs: { SCENARIOS: knobs.SCENARIOS.join(','), STOCK: primary?.spec.stock ?? knobs.STOCK, REQUESTS: ceilingRequests, CONNECTIONS: ceilingConnections, BENCH_PATH: knobs.BENCH_PATH, TARGET: knobs.TARGET, CEILINGS: knobs.CEILINGS },
      ...primaryPart(knobs, primary),
      ceilings: { http, redis: redisRate, sql: sqlRate },
      ratios,
      tokenVerifyMicros: { wall: tokenCost.perVerifyMicros, cpu: tokenCost.perVerifyCpuMicros },
      scenarios: summaries,
      floor,
      naive,
      pay,
      crowd,
      targets,
      verification: {
        confirmedUnits: primary?.verification.confirmedUnits ?? 0,
        mysqlStock: primary?.verification.mysqlStock ?? null,
        redisStock: primary?.verification.redisStock ?? null,
        passed: allChecks.every((c) => c.ok),
        checks: allChecks,
        warnings: [
          ...results.flatMap((r) => r.verification.warnings.map((w) => `[${r.name}] ${w}`)),
          ...(crowd === null ? [] : [crowd.room, crowd.noRoom]).flatMap((side) => side.warnings.map((w) => `[crowd, ${side.mode}] ${w}`))
        ]
      }
    }
    const files = writeReport(report, knobs.RESULTS_DIR)
    process.stdout.write(renderTable(report) + `\n\nreport: ${files.json}\nchart:  ${files.svg}\n${naiveChart === null ? '' : `naive:  ${naiveChart}\n`}`)
    const passed = report.verification.passed && (!knobs.STRICT_TARGETS || targets.every((t) => t.met !== false))
    return { report, files, passed }
  } finally {
    await Promise.allSettled([pool.end(), redis.quit()])
  }
}

/** The pay scenario's goal: units of an unpaid hold are back on sale within 2 s of payBy (p99) under load. */
function payTargets (pay: PayReport | null): Target[] {
  const p99 = pay?.expiryLag.p99Ms
  return [{
    name: 'pay: expiry lag p99 (payBy → units back on sale in Redis)',
    goal: '≤ 2,000 ms',
    value: pay === null ? 'not run' : p99 == null ? 'nothing expired' : `${Math.round(p99)} ms (${pay.expiryLag.measured} expiries)`,
    met: p99 == null ? null : p99 <= 2000
  }]
}

/**
 * The crowd's goals with the room on: nothing waits past 2 s, and the gateway turns almost nobody away
 * (at most 1 % of the buyers: a refusal is an answer ≥ 400 or none at all).
 */
function crowdTargets (crowd: CrowdReport | null): Target[] {
  const room = crowd?.room
  return [
    { name: 'crowd with the room: requests past 2 s', goal: '0', value: room === undefined ? 'not run' : `${fmt(room.answers.past2s)} of ${fmt(room.answers.requests)}`, met: room === undefined ? null : room.answers.past2s === 0 },
    {
      name: 'crowd with the room: refusals at the gateway',
      goal: '≤ 1% of buyers',
      value: room === undefined || crowd === null ? 'not run' : `${fmt(room.refusals)} (${(room.refusals * 100 / crowd.spec.buyers).toFixed(2)}%; without the room ${fmt(crowd.noRoom.refusals)})`,
      met: room === undefined || crowd === null ? null : room.refusals <= crowd.spec.buyers / 100
    }
  ]
}

/** What the report details of the first product sale of the run (none: nulls and empty series). */
function primaryPart (knobs: Knobs, primary: ScenarioResult | undefined): Pick<Report, 'productId' | 'sale' | 'drain' | 'throughput' | 'memory' | 'series'> {
  if (primary === undefined) return { productId: null, sale: null, drain: null, throughput: null, memory: {}, series: { seconds: [], stock: [], confirmed: [] } }
  const load = primary.load
  const acceptedTimes = [...load.accepted.keys()]
  const last202Received = acceptedTimes.length ? Math.max(...acceptedTimes.map((i) => load.receivedAt[i] ?? 0)) : null
  const last202Sent = acceptedTimes.length ? Math.max(...acceptedTimes.map((i) => load.sentAt[i] ?? 0)) : null
  let firstRefusal: number | null = null
  for (const [i, code] of load.codes) if (code === 'INSUFFICIENT_STOCK') firstRefusal = Math.min(firstRefusal ?? Infinity, load.receivedAt[i] ?? Infinity)
  let total = 0
  const lastWrite = primary.writes.at(-1)
  return {
    productId: primary.productId,
    sale: {
      ...primary.stats,
      scenario: primary.name,
      path: knobs.BENCH_PATH,
      url: `${knobs.TARGET}/orders`,
      accepted: primary.accepted,
      sellOutMs: primary.accepted >= primary.spec.stock ? last202Received : null,
      firstRefusalMs: firstRefusal,
      last202SentMs: last202Sent,
      last202ReceivedMs: last202Received
    },
    drain: primary.drain,
    throughput: {
      confirmedPerSecondEndToEnd: lastWrite ? primary.verification.confirmedUnits / ((lastWrite.at - load.epochAt0) / 1000) : 0,
      processorPerSecond: primary.processor.perSecond,
      processorPeakPerSecond: primary.processor.peakPerSecond,
      processorKeptUp: primary.processor.keptUp
    },
    memory: primary.memory,
    series: {
      seconds: perSecond(load),
      stock: stockSeries(primary.samples, load.epochAt0),
      confirmed: primary.writes.map((w) => ({ ms: w.at - load.epochAt0, total: (total += w.n) }))
    }
  }
}

/** The floor's goals: a refusal should cost about what a bare route costs (sold-out ≤ 1.2×, /health/live ≤ 1.1× its CPU). */
function floorTargets (floor: FloorReport | null): Target[] {
  const goal = (name: 'sold-out refusal' | 'health/live', limit: number): Target => {
    const c = floor?.cases.find((x) => x.name === name && x.gateway === floor.gateways[0]?.label)
    return {
      name: `gateway CPU per ${name} vs bare Fastify route (floor)`,
      goal: `≤ ${limit}×`,
      value: c === undefined ? 'not run' : c.toBare === null ? 'no bare figure' : `${c.toBare.toFixed(2)}× (${c.cpuMicrosPerRequest.toFixed(1)} µs)`,
      met: c?.toBare == null ? null : c.toBare <= limit
    }
  }
  return [goal('sold-out refusal', 1.2), goal('health/live', 1.1)]
}

function specOf (knobs: Knobs, name: ScenarioName): ScenarioSpec {
  switch (name) {
    case 'sale': return { name, stock: knobs.STOCK, requests: knobs.REQUESTS, connections: knobs.CONNECTIONS }
    case 'sold-out': return {
      name, stock: 1, requests: knobs.SOLD_OUT_REQUESTS, connections: knobs.CONNECTIONS,
      unitsBack: { units: Math.min(knobs.UNITS_BACK, Math.floor(knobs.SOLD_OUT_REQUESTS / 4)), afterAnswered: Math.floor(knobs.SOLD_OUT_REQUESTS / 2) }
    }
    case 'accept': return { name, stock: knobs.ACCEPT_ORDERS, requests: knobs.ACCEPT_ORDERS, connections: knobs.CONNECTIONS }
    case 'backlog': return { name, stock: knobs.BACKLOG_ORDERS, requests: knobs.BACKLOG_ORDERS, connections: knobs.CONNECTIONS, processorStopped: true }
    case 'overload': return { name, stock: knobs.OVERLOAD_STOCK, requests: knobs.OVERLOAD_REQUESTS, connections: knobs.OVERLOAD_CONNECTIONS }
  }
}

function summarize (r: ScenarioResult, httpCeiling: number | null, sqlCeiling: number | null): ScenarioSummary {
  const cpuTotal = COMPONENTS.filter((c) => c !== 'bench (load generator)').reduce((sum, c) => sum + (r.cpuSeconds[c] ?? 0), 0)
  const perAccepted: ScenarioSummary['cpuMicrosPerAccepted'] = {}
  for (const c of COMPONENTS) if (r.cpuSeconds[c] !== undefined && r.accepted > 0) perAccepted[c] = (r.cpuSeconds[c] ?? 0) * 1e6 / r.accepted
  return {
    name: r.name,
    productId: r.productId,
    stock: r.spec.stock + (r.spec.unitsBack?.units ?? 0),
    requests: r.spec.requests,
    connections: r.spec.connections,
    requestsPerSecond: r.stats.requestsPerSecond,
    toHttpCeiling: ratio(r.stats.requestsPerSecond, httpCeiling),
    acceptedPerSecond: r.stats.durationSeconds > 0 ? r.accepted / r.stats.durationSeconds : 0,
    latencyMs: r.stats.latencyMs,
    statusCounts: r.stats.statusCounts,
    accepted: r.accepted,
    slowOver2s: r.slowOver2s,
    drainMs: r.drain.drainMs,
    processorPerSecond: r.processor.perSecond,
    processorKeptUp: r.processor.keptUp,
    processorToSqlCeiling: ratio(r.processor.perSecond, sqlCeiling),
    cpuSeconds: r.cpuSeconds,
    cpuMicrosPerAccepted: perAccepted,
    cpuMicrosPerAcceptedTotal: r.accepted > 0 ? cpuTotal * 1e6 / r.accepted : null,
    cpuMicrosPerRequestTotal: cpuTotal * 1e6 / r.spec.requests,
    memory: r.memory,
    unitsBack: r.unitsBack,
    invariantsHold: r.verification.passed
  }
}

function targetsOf (knobs: Knobs, results: ScenarioResult[], summaries: ScenarioSummary[]): Target[] {
  const by = (name: ScenarioName) => summaries.find((s) => s.name === name)
  const share = (s: ScenarioSummary | undefined, goal: number, what: string): Target => ({
    name: `${s?.name ?? what} requests/s vs bare Fastify`,
    goal: `≥ ${goal * 100}%`,
    value: s === undefined ? 'not run' : s.toHttpCeiling === null ? 'no ceiling' : `${(s.toHttpCeiling * 100).toFixed(0)}% (${Math.round(s.requestsPerSecond)} req/s)`,
    met: s?.toHttpCeiling == null ? null : s.toHttpCeiling >= goal
  })
  const sale = by('sale')
  const accept = by('accept')
  const backlog = by('backlog')
  const overload = by('overload')
  const soldOut = by('sold-out')
  const targets: Target[] = [
    share(sale, 0.5, 'sale'),
    share(soldOut, 0.7, 'sold-out'),
    { ...share(accept, 0.2, 'accept'), name: 'accept requests/s vs bare Fastify, processor keeping up', met: accept?.toHttpCeiling == null ? null : accept.toHttpCeiling >= 0.2 && accept.processorKeptUp },
    {
      name: 'processor backlog drain vs batched-insert ceiling',
      goal: '≥ 50%',
      value: backlog === undefined ? 'not run' : backlog.processorToSqlCeiling === null ? 'no ceiling' : `${(backlog.processorToSqlCeiling * 100).toFixed(0)}% (${Math.round(backlog.processorPerSecond)} orders/s)`,
      met: backlog?.processorToSqlCeiling == null ? null : backlog.processorToSqlCeiling >= 0.5
    },
    { name: `p99 latency, sale at ${knobs.CONNECTIONS} connections`, goal: '≤ 50 ms', value: sale ? `${sale.latencyMs.p99.toFixed(1)} ms` : 'not run', met: sale ? sale.latencyMs.p99 <= 50 : null },
    {
      name: 'CPU per accepted order, whole machine (accept)',
      goal: '≤ 350 µs',
      value: accept?.cpuMicrosPerAcceptedTotal == null ? 'not measured' : `${Math.round(accept.cpuMicrosPerAcceptedTotal)} µs`,
      met: accept?.cpuMicrosPerAcceptedTotal == null ? null : accept.cpuMicrosPerAcceptedTotal <= 350
    },
    {
      name: `requests past 2 s at ${knobs.OVERLOAD_CONNECTIONS} connections`,
      goal: '0',
      value: overload ? String(overload.slowOver2s) : 'not run',
      met: overload ? overload.slowOver2s === 0 : null
    },
    {
      name: 'I5 window: refusals after units came back (sold-out)',
      goal: '≤ 50 ms',
      value: soldOut?.unitsBack ? `${soldOut.unitsBack.windowMs.toFixed(1)} ms (${soldOut.unitsBack.falseRefusals} refusals; first 202 after ${soldOut.unitsBack.firstAcceptedAfterMs?.toFixed(1) ?? '—'} ms)` : 'not run',
      met: soldOut?.unitsBack ? soldOut.unitsBack.windowMs <= 50 : null
    },
    { name: 'invariant violations', goal: '0', value: String(results.reduce((n, r) => n + r.verification.checks.filter((c) => !c.ok).length, 0)), met: results.every((r) => r.verification.passed) }
  ]
  const peak = (service: 'order-gateway' | 'order-processor'): number | null => {
    const values = summaries.map((s) => s.memory[service]?.peakRssMb).filter((v) => v !== undefined)
    return values.length ? Math.max(...values) : null
  }
  for (const [service, limit] of [['order-gateway', 200], ['order-processor', 300]] as const) {
    const value = peak(service)
    targets.push({ name: `peak RSS ${service}, every scenario`, goal: `≤ ${limit} MB`, value: value === null ? 'pid not found' : `${value} MB`, met: value === null ? null : value <= limit })
  }
  return targets
}

if (import.meta.main) {
  try {
    const outcome = await runBench()
    if (!outcome.passed) {
      process.stderr.write(`\nbench: FAILED — ${outcome.report.verification.passed ? 'a target was missed (STRICT_TARGETS=1)' : 'an invariant was violated'}\n`)
      process.exitCode = 1
    }
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`)
    process.exitCode = 2
  }
}
