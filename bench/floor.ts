import type { StockStore } from '@flash/common/stock'
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
  /** the gateway measured (its label), or 'bare' for the bare route */
  gateway: string
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

export interface FloorGateway { label: string, url: string, pid: number }

export interface FloorReport {
  /** the gateways measured in the same rounds (several: a branch's beside main's, each its own process) */
  gateways: FloorGateway[]
  connections: number
  rounds: number
  cases: FloorCase[]
}

export interface FloorOptions {
  /** label → base URL of each gateway to measure, in the same rounds */
  gateways: Array<{ label: string, url: string }>
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
  gateway: string
  expectedStatus: number
  requests: number
  /** one round's load against the given base URL */
  load: (round: number, requests: number, tag: string) => Promise<LoadRecord>
  /** the process whose CPU is measured */
  pid: () => number
}

export async function measureFloor (o: FloorOptions): Promise<FloorReport> {
  const gateways: FloorGateway[] = o.gateways.map(({ label, url }) => {
    const pid = pidListeningOn(Number(new URL(url).port || 80))
    if (pid === null) throw new Error(`floor: no process of this user listens on ${url} (its CPU cannot be read)`)
    return { label, url, pid }
  })
  const warmUp = Math.min(5000, Math.ceil(o.requests / 4))
  const acceptedWarmUp = Math.min(1000, Math.ceil(o.acceptedRequests / 5))
  const soldOut = await createProduct(o, `Bench floor sold-out ${o.runTag}`, 1)
  const onSale = await createProduct(o, `Bench floor auth ${o.runTag}`, 1)
  const accepting = await createProduct(o, `Bench floor accept ${o.runTag}`, gateways.length * (acceptedWarmUp + o.rounds * o.acceptedRequests))
  const buyers = mintBuyers(Math.max(o.requests, o.acceptedRequests, warmUp), `${o.runTag}floor`).map((b) => b.authorization)
  const invalid = Array.from({ length: o.requests }, () => 'Bearer not-a-valid-access-token')
  o.log(`floor: ${gateways.map((g) => `${g.label} pid ${g.pid}`).join(', ')}; products ${soldOut} (sold out), ${onSale} (auth refusals), ${accepting} (accepted); ${o.rounds} rounds`)

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
      { name: 'bare route', gateway: 'bare', expectedStatus: 202, requests: o.requests, load: load(bareUrl, 1, buyers), pid: () => barePid },
      ...gateways.flatMap((g): CaseSpec[] => [
        { name: 'health/live', gateway: g.label, expectedStatus: 200, requests: o.requests, load: load(g.url, 0, undefined, 'GET', '/health/live'), pid: () => g.pid },
        { name: 'sold-out refusal', gateway: g.label, expectedStatus: 409, requests: o.requests, load: load(g.url, soldOut, buyers), pid: () => g.pid },
        { name: 'auth refusal', gateway: g.label, expectedStatus: 401, requests: o.requests, load: load(g.url, onSale, invalid), pid: () => g.pid },
        { name: 'accepted order', gateway: g.label, expectedStatus: 202, requests: o.acceptedRequests, load: load(g.url, accepting, buyers), pid: () => g.pid }
      ])
    ]
    const keyOf = (c: CaseSpec): string => `${c.gateway}|${c.name}`
    const runs = new Map<string, Array<{ micros: number, perSecond: number, clean: boolean }>>()
    const unexpected = new Map<string, number>()
    // Warm-up: the JIT, the sold-out product's one unit taken and remembered, connections opened.
    for (const c of cases) await c.load(0, c.name === 'accepted order' ? acceptedWarmUp : warmUp, `w${c.gateway}${c.name.replace(/\W/g, '')}`)
    for (let round = 1; round <= o.rounds; round++) {
      for (const c of cases) {
        const pid = c.pid()
        const before = cpuTicks(pid)
        const record = await c.load(round, c.requests, `${c.gateway}${c.name.replace(/\W/g, '')}`)
        const after = cpuTicks(pid)
        if (before === null || after === null) throw new Error(`floor: process ${pid} (${c.name}) went away`)
        let other = 0
        let last = 0
        for (let i = 0; i < record.status.length; i++) {
          if (record.status[i] !== c.expectedStatus) other++
          last = Math.max(last, record.receivedAt[i] ?? 0)
        }
        unexpected.set(keyOf(c), (unexpected.get(keyOf(c)) ?? 0) + other)
        const micros = (after - before) / clockTicksPerSecond * 1e6 / c.requests
        // A round the gateway partly shed (503 on a starved machine) measured cheaper answers: not the case's.
        runs.set(keyOf(c), [...(runs.get(keyOf(c)) ?? []), { micros, perSecond: last > 0 ? c.requests / (last / 1000) : 0, clean: other <= c.requests / 100 }])
      }
      o.log(`floor: round ${round}: ${cases.map((c) => `${c.gateway} ${c.name} ${runs.get(keyOf(c))?.at(-1)?.micros.toFixed(1)} µs`).join(', ')}`)
    }
    const best = (key: string) => {
      const all = runs.get(key) ?? []
      const clean = all.filter((r) => r.clean)
      return (clean.length > 0 ? clean : all).reduce((a, b) => (b.micros < a.micros ? b : a), { micros: Infinity, perSecond: 0, clean: false })
    }
    const bare = best('bare|bare route').micros
    return {
      gateways,
      connections: o.connections,
      rounds: o.rounds,
      cases: cases.map((c): FloorCase => {
        const b = best(keyOf(c))
        return {
          name: c.name,
          gateway: c.gateway,
          expectedStatus: c.expectedStatus,
          requests: c.requests,
          runs: (runs.get(keyOf(c)) ?? []).map((r) => r.micros),
          cpuMicrosPerRequest: b.micros,
          toBare: bare > 0 && Number.isFinite(bare) ? b.micros / bare : null,
          requestsPerSecond: b.perSecond,
          unexpected: unexpected.get(keyOf(c)) ?? 0
        }
      })
    }
  })
}
