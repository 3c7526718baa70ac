import type { StockStore } from '@flash/common/stock/store.ts'
import { withBareServer } from './ceilings.ts'
import { clockTicksPerSecond } from './clock-ticks.ts'
import { cpuTicks } from './cpu.ts'
import { runLoad, type LoadRecord } from './load.ts'
import { mintBuyers } from './buyers.ts'
import { pidListeningOn } from './sampler.ts'
import { createProduct } from './scenarios.ts'

// The per-request floor: what one request costs the gateway's own process in CPU (utime + stime from
// /proc/<pid>/stat, over the requests of a run) for its cheapest answers, beside a bare Fastify route
// measured the same way, in the same run, under the same load. The gap between a sold-out refusal
// (answered from memory, no Redis call) and the bare route is what the platform adds per request.
// Each case runs `rounds` times, interleaved, and the best (lowest) run counts: the machine is shared,
// and a neighbour's burst can only make a run look worse.

export const FLOOR_CASES = ['bare route', 'health/live', 'sold-out refusal', 'auth refusal', 'accepted order'] as const
export type FloorCaseName = typeof FLOOR_CASES[number]

export interface FloorCase {
  name: FloorCaseName
  /** the answer every request of the case should get */
  expectedStatus: number
  requests: number
  /** CPU µs per request of the measured process, one value per round */
  runs: number[]
  /** the best (lowest) of `runs` whose answers were all (≥ 99 %) the expected one; of every run if none was */
  cpuMicrosPerRequest: number
  /** best ÷ the bare route's best (same run) */
  toBare: number | null
  /** requests/s of the round with the best CPU figure */
  requestsPerSecond: number
  /** answers with another status than expected, over every round */
  unexpected: number
}

export interface FloorReport {
  gatewayUrl: string
  gatewayPid: number
  connections: number
  rounds: number
  cases: FloorCase[]
}

export interface FloorOptions {
  gatewayUrl: string
  catalogUrl: string
  adminToken: string
  store: StockStore
  runTag: string
  /** requests per round of every case but the accepted order */
  requests: number
  /** requests per round of the accepted order (each goes through Kafka and MySQL) */
  acceptedRequests: number
  connections: number
  rounds: number
  timeoutSeconds: number
  log: (message: string) => void
}

interface CaseSpec {
  name: FloorCaseName
  expectedStatus: number
  requests: number
  /** one round's load against the given base URL */
  load: (round: number, requests: number, tag: string) => Promise<LoadRecord>
  /** the process whose CPU is measured */
  pid: () => number
}

export async function measureFloor (o: FloorOptions): Promise<FloorReport> {
  const gatewayPort = Number(new URL(o.gatewayUrl).port || 80)
  const gatewayPid = pidListeningOn(gatewayPort)
  if (gatewayPid === null) throw new Error(`floor: no process of this user listens on ${o.gatewayUrl} (its CPU cannot be read)`)
  const warmUp = Math.min(5000, Math.ceil(o.requests / 4))
  const acceptedWarmUp = Math.min(1000, Math.ceil(o.acceptedRequests / 5))
  const soldOut = await createProduct(o, `Bench floor sold-out ${o.runTag}`, 1)
  const onSale = await createProduct(o, `Bench floor auth ${o.runTag}`, 1)
  const accepting = await createProduct(o, `Bench floor accept ${o.runTag}`, acceptedWarmUp + o.rounds * o.acceptedRequests)
  const buyers = mintBuyers(Math.max(o.requests, o.acceptedRequests, warmUp), `${o.runTag}floor`).map((b) => b.authorization)
  const invalid = Array.from({ length: o.requests }, () => 'Bearer not-a-valid-access-token')
  o.log(`floor: gateway pid ${gatewayPid}; products ${soldOut} (sold out), ${onSale} (auth refusals), ${accepting} (accepted); ${o.rounds} rounds`)

  return await withBareServer(async (bareUrl, barePid) => {
    const load = (baseUrl: string, productId: number, authorizations: string[] | undefined, method: 'GET' | 'POST' = 'POST', path = '/orders') =>
      (round: number, requests: number, tag: string): Promise<LoadRecord> => runLoad({
        baseUrl,
        ordersPath: path,
        method,
        productId,
        requests,
        connections: Math.min(o.connections, requests),
        runTag: `${o.runTag}floor${tag}${round}`,
        ...(authorizations === undefined ? {} : { authorizations }),
        timeoutSeconds: o.timeoutSeconds
      })
    const cases: CaseSpec[] = [
      { name: 'bare route', expectedStatus: 202, requests: o.requests, load: load(bareUrl, 1, buyers), pid: () => barePid },
      { name: 'health/live', expectedStatus: 200, requests: o.requests, load: load(o.gatewayUrl, 0, undefined, 'GET', '/health/live'), pid: () => gatewayPid },
      { name: 'sold-out refusal', expectedStatus: 409, requests: o.requests, load: load(o.gatewayUrl, soldOut, buyers), pid: () => gatewayPid },
      { name: 'auth refusal', expectedStatus: 401, requests: o.requests, load: load(o.gatewayUrl, onSale, invalid), pid: () => gatewayPid },
      { name: 'accepted order', expectedStatus: 202, requests: o.acceptedRequests, load: load(o.gatewayUrl, accepting, buyers), pid: () => gatewayPid }
    ]
    const runs = new Map<FloorCaseName, Array<{ micros: number, perSecond: number, clean: boolean }>>()
    const unexpected = new Map<FloorCaseName, number>()
    // Warm-up: the JIT, the sold-out product's one unit taken and remembered, connections opened.
    for (const c of cases) await c.load(0, c.name === 'accepted order' ? acceptedWarmUp : warmUp, `w${c.name.replace(/\W/g, '')}`)
    for (let round = 1; round <= o.rounds; round++) {
      for (const c of cases) {
        const pid = c.pid()
        const before = cpuTicks(pid)
        const record = await c.load(round, c.requests, c.name.replace(/\W/g, ''))
        const after = cpuTicks(pid)
        if (before === null || after === null) throw new Error(`floor: process ${pid} (${c.name}) went away`)
        let other = 0
        let last = 0
        for (let i = 0; i < record.status.length; i++) {
          if (record.status[i] !== c.expectedStatus) other++
          last = Math.max(last, record.receivedAt[i] ?? 0)
        }
        unexpected.set(c.name, (unexpected.get(c.name) ?? 0) + other)
        const micros = (after - before) / clockTicksPerSecond * 1e6 / c.requests
        // A round the gateway partly shed (503 on a starved machine) measured cheaper answers: not the case's.
        runs.set(c.name, [...(runs.get(c.name) ?? []), { micros, perSecond: last > 0 ? c.requests / (last / 1000) : 0, clean: other <= c.requests / 100 }])
      }
      o.log(`floor: round ${round}: ${cases.map((c) => `${c.name} ${runs.get(c.name)?.at(-1)?.micros.toFixed(1)} µs`).join(', ')}`)
    }
    const best = (name: FloorCaseName) => {
      const all = runs.get(name) ?? []
      const clean = all.filter((r) => r.clean)
      return (clean.length > 0 ? clean : all).reduce((a, b) => (b.micros < a.micros ? b : a), { micros: Infinity, perSecond: 0, clean: false })
    }
    const bare = best('bare route').micros
    return {
      gatewayUrl: o.gatewayUrl,
      gatewayPid,
      connections: o.connections,
      rounds: o.rounds,
      cases: cases.map((c): FloorCase => {
        const b = best(c.name)
        return {
          name: c.name,
          expectedStatus: c.expectedStatus,
          requests: c.requests,
          runs: (runs.get(c.name) ?? []).map((r) => r.micros),
          cpuMicrosPerRequest: b.micros,
          toBare: bare > 0 && Number.isFinite(bare) ? b.micros / bare : null,
          requestsPerSecond: b.perSecond,
          unexpected: unexpected.get(c.name) ?? 0
        }
      })
    }
  })
}
