import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createMysqlPool } from '@flash/common/clients/mysql.ts'
import { createRedisCluster } from '@flash/common/clients/redis.ts'
import { loadConfig, MysqlEnv, RedisEnv, AdminEnv } from '@flash/common/config.ts'
import { StockStore } from '@flash/common/stock/store.ts'
import { runLoad } from './load.ts'
import { Sampler } from './sampler.ts'
import { drain, verifySale } from './verify.ts'
import { httpCeiling, redisCeiling, sqlCeiling } from './ceilings.ts'
import { writeTimes } from './repository.ts'
import { loadStats, memoryOf, perSecond, renderTable, stockSeries, writeReport, type Report, type Target } from './report.ts'

// Node 24 runs this TypeScript directly; `make bench` and `bin/node bench/flash-sale.ts` find it. An
// older Node that strips types (22.18+) gets this far: stop with the fix, not a confusing failure later.
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`bench/flash-sale.ts needs Node 24 (this is ${process.version}): run \`make bench\` or \`bin/node bench/flash-sale.ts\``)
  process.exit(1)
}

// `make bench`: a flash sale against the stack that is up, its invariants checked from MySQL and Redis,
// and the ceilings of this machine measured in the same run. Every knob is an environment variable:
//
//   STOCK=20000 REQUESTS=100000 CONNECTIONS=100   units on sale, buyers (one unit each), connections
//   BENCH_PATH=gateway|nginx                       straight at the gateway, or through nginx (/api)
//   TARGET=<base url of /orders>                   overrides what BENCH_PATH picks
//   GATEWAY_URL, CATALOG_URL, NGINX_URL            where the stack answers (defaults: :3002 :3001 :8080)
//   ADMIN_TOKEN=change-me-admin-token              creates the product
//   CEILINGS=full|short|off                        short: a tenth of the Redis/SQL work (make test)
//   REDIS_CEILING_OPS=200000 REDIS_CEILING_CONCURRENCY=100
//   SQL_CEILING_ROWS=100000 SQL_CEILING_BATCH=500 SQL_CEILING_CONCURRENCY=2
//   SAMPLE_MS=250 TIMEOUT_SECONDS=10 DRAIN_TIMEOUT_SECONDS=120
//   RESULTS_DIR=bench/results  LOCAL_RUN_DIR=.local/run  START_STACK=1 (run `make local` if nothing answers)
//   STRICT_TARGETS=0                               1: a missed target fails the run too
//   MYSQL_* and REDIS_NODES as for the services

const ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface Knobs {
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
  return {
    STOCK: stock,
    REQUESTS: requests,
    CONNECTIONS: connections,
    BENCH_PATH: path,
    TARGET: (env.TARGET || (path === 'nginx' ? `${nginx}/api` : gateway)).replace(/\/+$/, ''),
    GATEWAY_URL: gateway,
    CATALOG_URL: env.CATALOG_URL || 'http://127.0.0.1:3001',
    NGINX_URL: nginx,
    ADMIN_TOKEN: env.ADMIN_TOKEN || 'change-me-admin-token',
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

async function createProduct (knobs: Knobs, runId: string): Promise<number> {
  const response = await fetch(`${knobs.CATALOG_URL}/products`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${knobs.ADMIN_TOKEN}` },
    body: JSON.stringify({ name: `Bench flash sale ${runId}`, stock: knobs.STOCK, price: 100 })
  })
  const body = await response.json() as { id?: number }
  if (response.status !== 201 || typeof body.id !== 'number') throw new Error(`POST /products answered ${response.status}: ${JSON.stringify(body)}`)
  return body.id
}

const ratio = (a: number | undefined | null, b: number | undefined | null): number | null =>
  a === undefined || a === null || b === undefined || b === null || b === 0 ? null : a / b

export interface BenchOutcome { report: Report, files: { json: string, svg: string, markdown: string }, passed: boolean }

export async function runBench (knobs: Knobs = readKnobs()): Promise<BenchOutcome> {
  const started = new Date()
  const runId = started.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-') + '-' + Math.random().toString(36).slice(2, 6)
  const runTag = runId.replace(/-/g, '')
  await ensureStack(knobs)

  const config = loadConfig({ ...MysqlEnv, ...RedisEnv, ...AdminEnv })
  const pool = createMysqlPool(config, { connectionLimit: Math.max(2, knobs.SQL_CEILING_CONCURRENCY) })
  const redis = createRedisCluster(config.REDIS_NODES)
  const store = new StockStore(redis)
  try {
    // 1. the flash sale
    const productId = await createProduct(knobs, runId)
    for (let i = 0; (await store.snapshot(productId)).available !== knobs.STOCK; i++) {
      if (i > 100) throw new Error(`product ${productId} is not on sale in Redis with ${knobs.STOCK} units`)
      await sleep(100)
    }
    const target = new URL(knobs.TARGET)
    log(`product ${productId}: ${knobs.STOCK} units; ${knobs.REQUESTS} buyers over ${knobs.CONNECTIONS} connections → ${knobs.TARGET}/orders`)
    const sampler = new Sampler({ redis, productId, runDir: knobs.LOCAL_RUN_DIR })
    sampler.start(knobs.SAMPLE_MS)
    const load = await runLoad({
      baseUrl: target.origin,
      ordersPath: `${target.pathname.replace(/\/+$/, '')}/orders`,
      productId,
      requests: knobs.REQUESTS,
      connections: knobs.CONNECTIONS,
      runTag,
      timeoutSeconds: knobs.TIMEOUT_SECONDS
    })
    const loadEndedAt = Date.now()
    const sale = loadStats(load)
    log(`sale: ${Math.round(sale.requestsPerSecond)} req/s, p99 ${sale.latencyMs.p99.toFixed(1)} ms, ${load.accepted.size} accepted; draining`)

    // 2. drain
    const drained = await drain(pool, store, productId, load.accepted.size, knobs.DRAIN_TIMEOUT_SECONDS * 1000, knobs.SAMPLE_MS)
    await sampler.stop()

    // 3. verify
    const verification = await verifySale({ pool, store, productId, stock: knobs.STOCK, load, samples: sampler.samples, drain: drained })
    log(`invariants ${verification.passed ? 'hold' : 'VIOLATED'}`)

    // When MySQL wrote the orders (statement time of each batch): the processor's own pace.
    const writes = await writeTimes(pool, productId)
    let total = 0
    const confirmedSeries = writes.map((w) => ({ ms: w.at - load.epochAt0, total: (total += w.n) }))
    const firstWrite = writes[0]
    const lastWrite = writes.at(-1)
    let peak = 0
    for (let i = 0, j = 0, sum = 0; j < writes.length; j++) {
      sum += writes[j]!.n
      while (writes[j]!.at - writes[i]!.at >= 1000) sum -= writes[i++]!.n
      peak = Math.max(peak, sum)
    }
    const processorSpan = firstWrite && lastWrite ? (lastWrite.at - firstWrite.at) / 1000 : 0
    const processorPerSecond = processorSpan > 0 ? (total - (firstWrite?.n ?? 0)) / processorSpan : total
    const acceptedTimes = [...load.accepted.keys()]
    const last202Received = acceptedTimes.length ? Math.max(...acceptedTimes.map((i) => load.receivedAt[i] ?? 0)) : null
    const last202Sent = acceptedTimes.length ? Math.max(...acceptedTimes.map((i) => load.sentAt[i] ?? 0)) : null
    let firstRefusal: number | null = null
    for (const [i, code] of load.codes) if (code === 'INSUFFICIENT_STOCK') firstRefusal = Math.min(firstRefusal ?? Infinity, load.receivedAt[i] ?? Infinity)
    const keptUp = lastWrite !== undefined && last202Received !== null && lastWrite.at - (load.epochAt0 + last202Received) < 500
    const drainMs = lastWrite ? Math.max(0, lastWrite.at - loadEndedAt) : drained.drainMs

    // 4. ceilings, after the sale so their leftovers (a big ledger, deleted rows) never slow it down
    let http: Report['ceilings']['http'] = null
    let redisRate: Report['ceilings']['redis'] = null
    let sqlRate: Report['ceilings']['sql'] = null
    if (knobs.CEILINGS !== 'off') {
      const short = knobs.CEILINGS === 'short' ? 10 : 1
      log('ceiling: bare Fastify route')
      const bare = await httpCeiling({ requests: knobs.REQUESTS, connections: knobs.CONNECTIONS, runTag, timeoutSeconds: knobs.TIMEOUT_SECONDS })
      http = { ...loadStats(bare), path: 'bare Fastify, direct' }
      log('ceiling: reservation script alone')
      redisRate = await redisCeiling(redis, { operations: Math.ceil(knobs.REDIS_CEILING_OPS / short), concurrency: knobs.REDIS_CEILING_CONCURRENCY })
      log('ceiling: batched inserts')
      sqlRate = await sqlCeiling(pool, { rows: Math.ceil(knobs.SQL_CEILING_ROWS / short), batch: knobs.SQL_CEILING_BATCH, concurrency: knobs.SQL_CEILING_CONCURRENCY, runTag })
    }

    // 5. report
    const memory = memoryOf(sampler.memoryPeaks())
    const ratios = {
      gatewayToHttp: ratio(sale.requestsPerSecond, http?.requestsPerSecond),
      processorToSql: ratio(processorPerSecond, sqlRate?.perSecond),
      gatewayToRedis: ratio(sale.requestsPerSecond, redisRate?.perSecond)
    }
    const i2 = verification.checks.filter((c) => c.id === 'I2').every((c) => c.ok)
    const rss = (service: 'order-gateway' | 'order-processor', limitMb: number): Target => {
      const m = memory[service]
      return { name: `peak RSS ${service}`, goal: `≤ ${limitMb} MB`, value: m ? `${m.peakRssMb} MB` : 'pid not found', met: m ? m.peakRssMb <= limitMb : null }
    }
    const targets: Target[] = [
      { name: 'gateway requests/s vs bare Fastify', goal: '≥ 50%, every 202 durably in Kafka', value: ratios.gatewayToHttp === null ? 'no ceiling' : `${(ratios.gatewayToHttp * 100).toFixed(0)}% (${Math.round(sale.requestsPerSecond)} / ${Math.round(http?.requestsPerSecond ?? 0)})${i2 ? '' : ', NOT every 202 in MySQL'}`, met: ratios.gatewayToHttp === null ? null : ratios.gatewayToHttp >= 0.5 && i2 },
      { name: `p99 latency at ${knobs.CONNECTIONS} connections`, goal: '≤ 50 ms', value: `${sale.latencyMs.p99.toFixed(1)} ms`, met: sale.latencyMs.p99 <= 50 },
      // A processor that kept up with the gateway wrote at the arrival rate: that is a lower bound of
      // what it can do, so below the goal the target is undecided rather than missed.
      { name: 'processor confirmed orders/s vs batched inserts', goal: '≥ 50%', value: ratios.processorToSql === null ? 'no ceiling' : `${(ratios.processorToSql * 100).toFixed(0)}% (${Math.round(processorPerSecond)} / ${Math.round(sqlRate?.perSecond ?? 0)})${keptUp ? ', kept up with arrivals: a lower bound' : ''}`, met: ratios.processorToSql === null ? null : ratios.processorToSql >= 0.5 ? true : keptUp ? null : false },
      { name: 'invariant violations', goal: '0', value: String(verification.checks.filter((c) => !c.ok).length), met: verification.passed },
      rss('order-gateway', 200),
      rss('order-processor', 300)
    ]
    const report: Report = {
      runId,
      startedAt: started.toISOString(),
      machine: { cpus: availableParallelism(), node: process.version },
      knobs: { STOCK: knobs.STOCK, REQUESTS: knobs.REQUESTS, CONNECTIONS: knobs.CONNECTIONS, BENCH_PATH: knobs.BENCH_PATH, TARGET: knobs.TARGET, CEILINGS: knobs.CEILINGS },
      productId,
      sale: {
        ...sale,
        path: knobs.BENCH_PATH,
        url: `${knobs.TARGET}/orders`,
        accepted: load.accepted.size,
        sellOutMs: load.accepted.size >= knobs.STOCK ? last202Received : null,
        firstRefusalMs: firstRefusal,
        last202SentMs: last202Sent,
        last202ReceivedMs: last202Received
      },
      drain: { ...drained, drainMs },
      throughput: {
        confirmedPerSecondEndToEnd: lastWrite ? verification.confirmedUnits / ((lastWrite.at - load.epochAt0) / 1000) : 0,
        processorPerSecond,
        processorPeakPerSecond: peak,
        processorKeptUp: keptUp
      },
      memory,
      ceilings: { http, redis: redisRate, sql: sqlRate },
      ratios,
      targets,
      verification,
      series: { seconds: perSecond(load), stock: stockSeries(sampler.samples, load.epochAt0), confirmed: confirmedSeries }
    }
    const files = writeReport(report, knobs.RESULTS_DIR)
    process.stdout.write(renderTable(report) + `\n\nreport: ${files.json}\nchart:  ${files.svg}\n`)
    const passed = verification.passed && (!knobs.STRICT_TARGETS || targets.every((t) => t.met !== false))
    return { report, files, passed }
  } finally {
    await Promise.allSettled([pool.end(), redis.quit()])
  }
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
