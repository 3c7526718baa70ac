import { performance } from 'node:perf_hooks'
import type { Pool } from 'mysql2/promise'
import type { Cluster } from 'ioredis'
import { Pool as HttpPool } from 'undici'
import { productKeys } from '@flash/common/contracts'
import type { StockStore } from '@flash/common/stock'
import { RoomStore } from '@flash/common/room'
import { mintBuyers } from './buyers.ts'
import { buyerAddress, type LoadRecord } from './load.ts'
import { Sampler } from './sampler.ts'
import { componentPids, cpuSnapshot, cpuSeconds, type Component, type CpuSnapshot } from './cpu.ts'
import { drain, verifySale, type Check } from './verify.ts'
import { buyersOverLimit, orderBuyers } from './repository.ts'
import { createProduct } from './scenarios.ts'
import { percentile, fmt } from './report.ts'

// The `crowd` scenario of `make bench SCENARIOS=crowd` (docs/ARCHITECTURE.md §10): CROWD_BUYERS
// signed-in buyers want CROWD_STOCK units (one each, perUserLimit 1), over CROWD_CONNECTIONS
// connections, against the stack's gateway and processor. The same crowd twice in one run:
//   room     the product's waiting room is on: the buyers join spread over CROWD_JOIN_SECONDS before the
//            start, poll after the `pollAfterMs` they are told, and order once admitted, with the pass —
//            as the shop's queue page does (frontend/src/views/QueueView.vue): a refused join is tried
//            again after 10 s, a failed poll after `pollAfterMs`, a refused order after its Retry-After
//   no room  a product without a room: every buyer sends its order at once and, refused with anything
//            but "sold out", tries again after its Retry-After (else CROWD_RETRY_MS)
// Both wait for the drain and are checked from MySQL and Redis (I1–I5 of bench/verify.ts, no buyer past
// its limit; with the room: every order's buyer was admitted, orders = passes used in Redis, and buyers
// who order without a pass are refused and write nothing).
//
// The load generator is cheap on purpose, since it shares two cores with what it measures: tokens minted
// before the run, one undici pool, a buyer's state in typed arrays, and one timer wheel (a 10 ms tick
// moving due buyers to the ready queue) instead of a timer per buyer. At most CONNECTIONS requests are
// in flight; a request's time is counted from its dispatch, and how late the generator dispatched what
// was due is reported apart (`lagP99Ms`).

export interface CrowdSpec {
  buyers: number
  stock: number
  connections: number
  /** room: the buyers' joins are spread over this many seconds; the sale starts 3 s after */
  joinSeconds: number
  /** no room: a refused buyer tries again after this (when no Retry-After said otherwise) */
  retryMs: number
  /** room: buyers who try to order without a pass once the sale started (each must be refused) */
  probes: number
  /** each side gives up this long after its start: buyers still waiting then are reported unserved */
  deadlineSeconds: number
  timeoutSeconds: number
}

export interface CrowdContext {
  pool: Pool
  redis: Cluster
  store: StockStore
  gatewayUrl: string
  catalogUrl: string
  adminToken: string
  runTag: string
  runDir: string
  sampleMs: number
  drainTimeoutMs: number
  log: (message: string) => void
}

export type CrowdMode = 'room' | 'no room'

/** What the buyers of one side were answered, request by request. */
export interface CrowdAnswers {
  requests: number
  statusCounts: Record<string, number>
  /** answers ≥ 400 and requests never answered ("0"), by status and code */
  refusals: Record<string, number>
  p99Ms: number
  /** answered after more than 2 s, or never */
  past2s: number
  /** how late the generator dispatched what was due (its own queue, not the gateway's) */
  lagP99Ms: number
}

/** The waiting room's own figures (the room side only). */
export interface WaitingRoomFigures {
  joins: number
  polls: number
  joinP99Ms: number | null
  /** buyers whose join was answered before the start */
  joinedBeforeStart: number
  /** gateway + Redis CPU per join or poll answered before the start */
  cpuMicrosPerRequest: number | null
  /** buyers the bench saw admitted (a pass in a status answer) */
  admitted: number
  /** from the poll that said "admitted" to the order's 202, p99 */
  admissionToAcceptedP99Ms: number | null
  /** from the room admitting a buyer (its pass's expiry − ROOM_PASS_SECONDS) to the buyer's poll seeing it */
  admittedToSeenP99Ms: number | null
  /** its four Redis keys, peak of the samples (MEMORY USAGE) */
  peakBytes: number
}

export interface CrowdSide {
  mode: CrowdMode
  productId: number
  answers: CrowdAnswers
  /** answers ≥ 400 and requests never answered: every time the gateway turned a buyer away or asked it to retry */
  refusals: number
  waitingRoom: WaitingRoomFigures | null
  /** units confirmed in MySQL */
  sold: number
  /** buyers neither sold a unit nor told "sold out" by the deadline */
  unserved: number
  /** from the start to the last 202 */
  sellOutMs: number | null
  gatewayPeakRssMb: number | null
  /** CPU seconds per component, first request → drain */
  cpuSeconds: Partial<Record<Component, number>>
  checks: Check[]
  warnings: string[]
}

export interface CrowdReport { spec: CrowdSpec, room: CrowdSide, noRoom: CrowdSide }

const TICK_MS = 10
const START_AFTER_JOINS_MS = 3000
/** the shop's queue page: a refused join is asked again after 10 s; a poll's default interval */
const JOIN_AGAIN_MS = 10_000
const POLL_MS = 5000
/** how long a pass is valid: the gateway's ROOM_PASS_SECONDS (its default unless set here too) */
const passMs = Number(process.env.ROOM_PASS_SECONDS ?? 120) * 1000
const PROBE_ATTEMPTS = 20

// A buyer's next step.
const JOIN = 0
const POLL = 1
const ORDER = 2
const DONE = 3

const p99 = (values: number[]): number | null => values.length === 0 ? null : percentile(Float64Array.from(values).sort(), 99)

/** Requests at most `connections` at a time, buyers woken by one timer wheel. */
class Crowd {
  readonly #http: HttpPool
  readonly #connections: number
  readonly #wheel = new Map<number, number[]>()
  readonly #dueAt: Float64Array
  #ready: number[] = []
  #readyHead = 0
  #inFlight = 0
  #stopped = false
  #timer: NodeJS.Timeout | null = null
  /** the next slot the wheel turns to (performance.now() / TICK_MS) */
  #slot = Math.floor(performance.now() / TICK_MS)
  #left: number
  readonly #finished: PromiseWithResolvers<void> = Promise.withResolvers()
  readonly latencies: number[] = []
  readonly lags: number[] = []
  readonly statusCounts = new Map<string, number>()
  readonly refusalCodes = new Map<string, number>()
  past2s = 0
  readonly #step: (buyer: number) => Promise<void>

  constructor (url: string, buyers: number, connections: number, timeoutMs: number, step: (buyer: number) => Promise<void>) {
    this.#step = step
    this.#http = new HttpPool(url, { connections, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    this.#connections = connections
    this.#dueAt = new Float64Array(buyers)
    this.#left = buyers
  }

  /** Wakes `buyer` at `at` (performance.now() ms). */
  wake (buyer: number, at: number): void {
    if (this.#stopped) return
    this.#dueAt[buyer] = at
    // A slot the wheel has passed already is the next one it turns to.
    const slot = Math.max(this.#slot, Math.floor(at / TICK_MS))
    const list = this.#wheel.get(slot)
    if (list === undefined) this.#wheel.set(slot, [buyer])
    else list.push(buyer)
  }

  /** The buyer is through: the run ends with the last one. */
  done (): void {
    if (--this.#left === 0) this.#finished.resolve()
  }

  /** The deadline: nothing more is sent, and the run ends once what is in flight was answered. */
  stop (): void {
    this.#stopped = true
    this.#wheel.clear()
    this.#ready = []
    this.#readyHead = 0
    if (this.#inFlight === 0) this.#finished.resolve()
  }

  /** buyers neither through nor given up on */
  get left (): number { return this.#left }

  async run (): Promise<void> {
    this.#timer = setInterval(() => {
      const now = Math.floor(performance.now() / TICK_MS)
      for (; this.#slot <= now; this.#slot++) {
        const due = this.#wheel.get(this.#slot)
        if (due === undefined) continue
        this.#wheel.delete(this.#slot)
        for (const buyer of due) this.#ready.push(buyer)
      }
      this.#pump()
    }, TICK_MS)
    try {
      await this.#finished.promise
    } finally {
      clearInterval(this.#timer)
      await this.#http.close()
    }
  }

  #pump (): void {
    while (this.#inFlight < this.#connections && this.#readyHead < this.#ready.length) {
      const buyer = this.#ready[this.#readyHead++]!
      this.lags.push(performance.now() - (this.#dueAt[buyer] ?? 0))
      this.#inFlight++
      this.#step(buyer).catch((error: unknown) => { this.#finished.reject(error) }).finally(() => {
        this.#inFlight--
        if (this.#stopped && this.#inFlight === 0) this.#finished.resolve()
        else this.#pump()
      })
    }
    if (this.#readyHead > 10_000 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead)
      this.#readyHead = 0
    }
  }

  /** One request: status 0 when it got no answer within the timeout. */
  async call (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, json: Record<string, unknown>, ms: number, retryAfterMs: number | null }> {
    const started = performance.now()
    let status = 0
    let json: Record<string, unknown> = {}
    let retryAfterMs: number | null = null
    try {
      const response = await this.#http.request({ method, path, headers, body })
      const text = await response.body.text()
      status = response.statusCode
      json = text === '' ? {} : JSON.parse(text) as Record<string, unknown>
      const retryAfter = Number(response.headers['retry-after'])
      if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = retryAfter * 1000
    } catch { /* no answer: status 0 */ }
    const ms = performance.now() - started
    this.latencies.push(ms)
    if (status === 0 || ms > 2000) this.past2s++
    this.statusCounts.set(String(status), (this.statusCounts.get(String(status)) ?? 0) + 1)
    if (status === 0 || status >= 400) {
      const code = `${status} ${typeof json.code === 'string' ? json.code : status === 0 ? 'no answer' : ''}`.trim()
      this.refusalCodes.set(code, (this.refusalCodes.get(code) ?? 0) + 1)
    }
    return { status, json, ms, retryAfterMs }
  }
}

/** The order attempts of a side, as bench/verify.ts reads a burst. */
class OrderLog {
  readonly #sentAt: number[] = []
  readonly #receivedAt: number[] = []
  readonly #latency: number[] = []
  readonly #status: number[] = []
  readonly codes = new Map<number, string>()
  readonly accepted = new Map<number, string>()
  readonly refusedWithUnitsLeft: number[] = []
  malformed = 0
  readonly t0: number
  readonly epochAt0: number
  constructor (t0: number, epochAt0: number) {
    this.t0 = t0
    this.epochAt0 = epochAt0
  }

  add (sentAt: number, answer: { status: number, json: Record<string, unknown>, ms: number }): void {
    const i = this.#status.length
    this.#sentAt.push(sentAt - this.t0)
    this.#receivedAt.push(sentAt - this.t0 + answer.ms)
    this.#latency.push(answer.ms)
    this.#status.push(answer.status)
    const { json } = answer
    if (answer.status === 202) {
      if (typeof json.orderId === 'string' && json.status === 'pending') this.accepted.set(i, json.orderId)
      else this.malformed++
    } else if (answer.status >= 400 && typeof json.code === 'string') {
      this.codes.set(i, json.code)
      const available = (json.details as { available?: unknown } | undefined)?.available
      if (json.code === 'INSUFFICIENT_STOCK' && typeof available === 'number' && available > 0) this.refusedWithUnitsLeft.push(available)
    }
  }

  record (): LoadRecord {
    return {
      t0: this.t0,
      epochAt0: this.epochAt0,
      sentAt: Float64Array.from(this.#sentAt),
      receivedAt: Float64Array.from(this.#receivedAt),
      latencyMs: Float64Array.from(this.#latency),
      status: Uint16Array.from(this.#status),
      codes: this.codes,
      accepted: this.accepted,
      refusedWithUnitsLeft: this.refusedWithUnitsLeft,
      malformed: this.malformed,
      summary: null as unknown as LoadRecord['summary'],
      sent: this.#status.length
    }
  }
}

const sum = (cpu: Partial<Record<Component, number>>, components: Component[]): number =>
  components.reduce((n, c) => n + (cpu[c] ?? 0), 0)

async function roomBytes (redis: Cluster, productId: number): Promise<number> {
  const keys = productKeys(productId)
  const sizes = await Promise.all([keys.room, keys.roomQueue, keys.roomSeen, keys.roomAdmitted]
    .map(async (key) => Number(await redis.call('MEMORY', 'USAGE', key) ?? 0)))
  return sizes.reduce((a, b) => a + b, 0)
}

async function patchRoom (ctx: CrowdContext, productId: number, enabled: boolean): Promise<void> {
  const response = await fetch(`${ctx.catalogUrl}/products/${productId}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.adminToken}` },
    body: JSON.stringify({ waitingRoom: { enabled } })
  })
  await response.arrayBuffer()
  if (response.status !== 200) throw new Error(`PATCH /products/${productId} (waitingRoom) answered ${response.status}`)
}

async function runSide (ctx: CrowdContext, spec: CrowdSpec, mode: CrowdMode): Promise<CrowdSide> {
  const room = mode === 'room'
  const startsAtEpoch = Date.now() + (room ? spec.joinSeconds * 1000 + START_AFTER_JOINS_MS : 0)
  const productId = await createProduct(ctx, `Bench crowd ${mode} ${ctx.runTag}`, spec.stock, {
    perUserLimit: 1,
    ...(room ? { saleStartsAt: new Date(startsAtEpoch).toISOString(), waitingRoom: { enabled: true, opensSecondsBefore: 3600 } } : {})
  })
  const tag = `${ctx.runTag}crowd${room ? 'r' : 'n'}`
  ctx.log(`crowd (${mode}): product ${productId}, ${spec.stock} units, ${spec.buyers} buyers over ${spec.connections} connections`)
  const buyers = mintBuyers(spec.buyers + spec.probes, tag)
  const headers = buyers.map((b, i) => ({ authorization: b.authorization, 'x-forwarded-for': buyerAddress(i) }))
  const body = JSON.stringify({ productId, quantity: 1 })
  // Let every gateway learn of the room (the catalog announces it; the copy is refreshed every second).
  if (room) await new Promise((resolve) => setTimeout(resolve, 1500))

  const state = new Uint8Array(spec.buyers)
  const admittedAt = new Float64Array(spec.buyers)
  const passes: Array<string | undefined> = new Array(spec.buyers)
  const admittedBuyers = new Set<string>()
  const joinTimes: number[] = []
  const admittedToSeen: number[] = []
  const toAccepted: number[] = []
  let polls = 0
  let joinedBeforeStart = 0
  let roomRequestsBeforeStart = 0
  let lastAcceptedAt = 0

  const pids = componentPids(ctx.runDir)
  const sampler = new Sampler({ redis: ctx.redis, productId, runDir: ctx.runDir })
  sampler.start(ctx.sampleMs)
  const t0 = performance.now()
  const epochAt0 = Date.now()
  const startsAt = t0 + (startsAtEpoch - epochAt0)
  const orders = new OrderLog(t0, epochAt0)
  let roomPeakBytes = 0
  const memoryTimer = room ? setInterval(() => { roomBytes(ctx.redis, productId).then((b) => { roomPeakBytes = Math.max(roomPeakBytes, b) }, () => {}) }, 1000) : null

  const afterRefusal = (answer: { retryAfterMs: number | null }): number => performance.now() + (answer.retryAfterMs ?? spec.retryMs)
  const crowd: Crowd = new Crowd(ctx.gatewayUrl, spec.buyers, spec.connections, spec.timeoutSeconds * 1000, async (buyer) => {
    const own = headers[buyer]!
    if (state[buyer] === ORDER) {
      const pass = passes[buyer]
      const sentAt = performance.now()
      const answer = await crowd.call('POST', '/orders', {
        ...own, 'content-type': 'application/json', 'idempotency-key': `bench-${tag}-${buyer}`, ...(pass === undefined ? {} : { 'x-room-pass': pass })
      }, body)
      orders.add(sentAt, answer)
      if (answer.status === 202) {
        lastAcceptedAt = performance.now()
        if (room) toAccepted.push(lastAcceptedAt - (admittedAt[buyer] ?? 0))
      } else if (answer.status === 0 || answer.status === 429 || answer.status >= 500 || (!room && answer.json.code !== 'INSUFFICIENT_STOCK')) {
        // Asked to retry (or no answer): the same order again, same key and pass.
        crowd.wake(buyer, afterRefusal(answer))
        return
      }
      // Accepted, sold out, or (room) refused for its pass: through.
      state[buyer] = DONE
      crowd.done()
      return
    }
    const joining = state[buyer] === JOIN
    const answer = joining
      ? await crowd.call('POST', `/rooms/${productId}/join`, own)
      : await crowd.call('GET', `/rooms/${productId}/status`, own)
    if (joining) joinTimes.push(answer.ms)
    else polls++
    if (performance.now() < startsAt) roomRequestsBeforeStart++
    if (answer.status !== 200) {
      crowd.wake(buyer, performance.now() + (joining ? JOIN_AGAIN_MS : POLL_MS))
      return
    }
    if (joining) {
      state[buyer] = POLL
      if (performance.now() < startsAt) joinedBeforeStart++
    }
    const told = answer.json
    if (told.state === 'admitted' && typeof told.pass === 'string') {
      state[buyer] = ORDER
      passes[buyer] = told.pass
      admittedAt[buyer] = performance.now()
      if (typeof told.passExpiresAt === 'string') admittedToSeen.push(Date.now() - (Date.parse(told.passExpiresAt) - passMs))
      admittedBuyers.add(buyers[buyer]!.userId)
      crowd.wake(buyer, performance.now())
    } else if (told.state === 'sold-out') {
      state[buyer] = DONE
      crowd.done()
    } else {
      if (told.state === 'none') state[buyer] = JOIN // the place was freed: join again
      crowd.wake(buyer, performance.now() + Number(told.pollAfterMs ?? POLL_MS))
    }
  })

  let cpuAtStart: CpuSnapshot | null = null
  const cpuBefore = cpuSnapshot(pids)
  for (let buyer = 0; buyer < spec.buyers; buyer++) {
    state[buyer] = room ? JOIN : ORDER
    crowd.wake(buyer, room ? t0 + (buyer / spec.buyers) * spec.joinSeconds * 1000 : t0)
  }
  const startTimer = setTimeout(() => { cpuAtStart = cpuSnapshot(pids) }, Math.max(0, startsAt - performance.now()))
  const roomStore = new RoomStore(ctx.redis)
  const progress = setInterval(() => {
    const counts = [0, 0, 0, 0]
    for (const s of state) counts[s]!++
    const line = `crowd (${mode}): +${fmt((performance.now() - t0) / 1000)} s, ${fmt(crowd.latencies.length)} answers (${codes(Object.fromEntries(crowd.statusCounts))}); ` +
      `buyers to join ${counts[JOIN]}, polling ${counts[POLL]}, ordering ${counts[ORDER]}, through ${counts[DONE]}; ${orders.accepted.size} accepted`
    if (!room) { ctx.log(line); return }
    // What the room itself holds: one summary read per 5 s.
    roomStore.summary(productId).then(
      (r) => ctx.log(`${line}; room: waiting ${fmt(r.waiting)}, admitted ${fmt(r.admitted)}, holding a pass ${fmt(r.holdingPass)}, bought ${fmt(r.bought)}, ${fmt(r.admittedPerSecond, 1)} admitted/s`),
      () => ctx.log(line))
  }, 5000)
  // Buyers of the crowd who try to order without a pass once the sale has started: each must be refused.
  const probes = room ? probeWithoutPass(ctx, productId, buyers.slice(spec.buyers), body, startsAt + 2000) : Promise.resolve([])
  const deadline = setTimeout(() => {
    ctx.log(`crowd (${mode}): the deadline (${spec.deadlineSeconds} s after the start) passed with ${crowd.left} buyers waiting: giving up on them`)
    crowd.stop()
  }, Math.max(0, startsAt - performance.now()) + spec.deadlineSeconds * 1000)
  try {
    await crowd.run()
  } finally {
    clearTimeout(deadline)
    clearTimeout(startTimer)
    clearInterval(progress)
    if (memoryTimer !== null) clearInterval(memoryTimer)
  }
  const probeStatuses = await probes
  const cpuStart = cpuAtStart as CpuSnapshot | null
  ctx.log(`crowd (${mode}): ${orders.accepted.size} accepted of ${spec.stock}, ${crowd.latencies.length} requests; draining`)

  const load = orders.record()
  const drained = await drain(ctx.pool, ctx.store, productId, load.accepted.size, ctx.drainTimeoutMs, ctx.sampleMs)
  const cpuAfter = cpuSnapshot(pids)
  await sampler.stop()
  const verification = await verifySale({ pool: ctx.pool, store: ctx.store, productId, stock: spec.stock, load, samples: sampler.samples, drain: drained })
  const checks = [...verification.checks]
  const overLimit = await buyersOverLimit(ctx.pool, productId, 1)
  checks.push({ id: 'limit', name: 'no buyer holds more than its limit (1) in MySQL', ok: overLimit === 0, detail: `${overLimit} buyers over the limit` })
  if (room) {
    const rows = await orderBuyers(ctx.pool, productId)
    const withoutPass = rows.filter((userId) => !admittedBuyers.has(userId)).length
    checks.push({ id: 'room', name: 'every order in MySQL is a buyer the room admitted', ok: withoutPass === 0, detail: `${rows.length} orders, ${withoutPass} by buyers never admitted` })
    const summary = await roomStore.summary(productId)
    checks.push({ id: 'room', name: 'orders in MySQL = passes used in Redis (the room\'s `bought`)', ok: summary.bought === rows.length, detail: `bought ${summary.bought}, orders ${rows.length}, admitted ${summary.admitted}` })
    const probeRows = rows.filter((userId) => buyers.slice(spec.buyers).some((b) => b.userId === userId)).length
    const refused = probeStatuses.filter((s) => s === 403).length
    checks.push({ id: 'room', name: 'orders without a pass are refused (403) and write nothing', ok: refused === probeStatuses.length && probeRows === 0, detail: `${refused} of ${probeStatuses.length} refused, ${probeRows} written` })
    await patchRoom(ctx, productId, false)
  }

  const gatewayCpu: Component[] = ['order-gateway', 'redis (6 nodes)']
  const gatewayPeak = sampler.memoryPeaks()['order-gateway']
  return {
    mode,
    productId,
    answers: {
      requests: crowd.latencies.length,
      statusCounts: Object.fromEntries(crowd.statusCounts),
      refusals: Object.fromEntries(crowd.refusalCodes),
      p99Ms: p99(crowd.latencies) ?? 0,
      past2s: crowd.past2s,
      lagP99Ms: p99(crowd.lags) ?? 0
    },
    refusals: [...crowd.refusalCodes.values()].reduce((a, b) => a + b, 0),
    waitingRoom: room
      ? {
          joins: joinTimes.length,
          polls,
          joinP99Ms: p99(joinTimes),
          joinedBeforeStart,
          cpuMicrosPerRequest: cpuStart !== null && roomRequestsBeforeStart > 0 ? sum(cpuSeconds(cpuBefore, cpuStart), gatewayCpu) * 1e6 / roomRequestsBeforeStart : null,
          admitted: admittedBuyers.size,
          admissionToAcceptedP99Ms: p99(toAccepted),
          admittedToSeenP99Ms: p99(admittedToSeen),
          peakBytes: roomPeakBytes
        }
      : null,
    sold: verification.confirmedUnits,
    unserved: crowd.left,
    sellOutMs: orders.accepted.size >= spec.stock && lastAcceptedAt > 0 ? lastAcceptedAt - startsAt : null,
    gatewayPeakRssMb: gatewayPeak === undefined ? null : Math.round(gatewayPeak.peakRssKb / 1024),
    cpuSeconds: cpuSeconds(cpuBefore, cpuAfter),
    checks,
    warnings: verification.warnings
  }
}

/** `probes` buyers of the crowd order without a pass at `at` (performance.now() ms): their statuses. */
async function probeWithoutPass (ctx: CrowdContext, productId: number, probes: Array<{ authorization: string }>, body: string, at: number): Promise<number[]> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())))
  return await Promise.all(probes.map(async (buyer, i) => {
    // Shed (503) or unanswered: asked again after a second, as any buyer would.
    let status = 0
    for (let attempt = 0; attempt < PROBE_ATTEMPTS && (status === 0 || status === 503); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 1000))
      const response = await fetch(`${ctx.gatewayUrl}/orders`, {
        method: 'POST',
        headers: { authorization: buyer.authorization, 'content-type': 'application/json', 'idempotency-key': `bench-${ctx.runTag}-probe-${i}`, 'x-forwarded-for': buyerAddress(200_000 + i) },
        body
      }).catch(() => null)
      await response?.arrayBuffer()
      status = response?.status ?? 0
    }
    return status
  }))
}

/** The same crowd with the room and without it, one after the other. */
export async function runCrowd (ctx: CrowdContext, spec: CrowdSpec): Promise<CrowdReport> {
  const room = await runSide(ctx, spec, 'room')
  const noRoom = await runSide(ctx, spec, 'no room')
  return { spec, room, noRoom }
}

/** The crowd's section of the report: the two sides beside each other. */
export function crowdLines (crowd: CrowdReport | null): string[] {
  if (crowd === null) return []
  const { room, noRoom, spec } = crowd
  const ms = (v: number | null): string => v === null ? '—' : `${fmt(v)} ms`
  const w = room.waitingRoom
  const rows: Array<[string, string, string]> = [
    ['', 'room', 'no room'],
    ['requests in all', fmt(room.answers.requests), fmt(noRoom.answers.requests)],
    ['joins / polls', w === null ? '—' : `${fmt(w.joins)} / ${fmt(w.polls)}`, '—'],
    ['joined before the start', fmt(w?.joinedBeforeStart), '—'],
    ['join p99', ms(w?.joinP99Ms ?? null), '—'],
    ['CPU µs per join/poll (gateway + Redis, before the start)', fmt(w?.cpuMicrosPerRequest, 1), '—'],
    ['admitted (a pass seen)', fmt(w?.admitted), '—'],
    ['room admits → buyer sees its pass p99', ms(w?.admittedToSeenP99Ms ?? null), '—'],
    ['admission → accepted order p99', ms(w?.admissionToAcceptedP99Ms ?? null), '—'],
    ['p99, every request', ms(room.answers.p99Ms), ms(noRoom.answers.p99Ms)],
    ['requests past 2 s (or unanswered)', fmt(room.answers.past2s), fmt(noRoom.answers.past2s)],
    ['generator lag p99 (its own queue)', ms(room.answers.lagP99Ms), ms(noRoom.answers.lagP99Ms)],
    ['buyers unserved at the deadline', fmt(room.unserved), fmt(noRoom.unserved)],
    ['units sold (MySQL)', `${fmt(room.sold)} of ${fmt(spec.stock)}`, `${fmt(noRoom.sold)} of ${fmt(spec.stock)}`],
    ['time to sell out (from the start)', room.sellOutMs === null ? 'did not sell out' : ms(room.sellOutMs), noRoom.sellOutMs === null ? 'did not sell out' : ms(noRoom.sellOutMs)],
    ['refusals at the gateway (≥ 400 or unanswered)', fmt(room.refusals), fmt(noRoom.refusals)],
    ['  by status and code', codes(room.answers.refusals), codes(noRoom.answers.refusals)],
    ['room peak memory (Redis, MEMORY USAGE)', w === null ? '—' : `${fmt(w.peakBytes / 1024 / 1024, 1)} MB`, '—'],
    ['gateway peak RSS', room.gatewayPeakRssMb === null ? '—' : `${fmt(room.gatewayPeakRssMb)} MB`, noRoom.gatewayPeakRssMb === null ? '—' : `${fmt(noRoom.gatewayPeakRssMb)} MB`],
    ['machine CPU s (gateway, Redis, processor, MariaDB, Kafka)', fmt(machineCpu(room), 1), fmt(machineCpu(noRoom), 1)],
    ['invariants', room.checks.every((c) => c.ok) ? 'all hold' : 'VIOLATED', noRoom.checks.every((c) => c.ok) ? 'all hold' : 'VIOLATED']
  ]
  const widths = [0, 1].map((k) => Math.max(...rows.map((r) => r[k]!.length)))
  return ['', `crowd: ${fmt(spec.buyers)} signed-in buyers for ${fmt(spec.stock)} units (one each) over ${fmt(spec.connections)} connections, with the waiting room (joins over ${spec.joinSeconds} s before the start) and without it:`,
    ...rows.map((r) => `  ${r[0].padEnd(widths[0]!)}  ${r[1].padEnd(widths[1]!)}  ${r[2]}`)]
}

const codes = (counts: Record<string, number>): string => Object.entries(counts).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ') || '—'
const machineCpu = (side: CrowdSide): number => sum(side.cpuSeconds, ['order-gateway', 'redis (6 nodes)', 'order-processor', 'mariadb', 'kafka'])
