import type { Cluster } from 'ioredis'
import { readFileSync } from 'node:fs'
import { productKeys, ROOMS_KEY } from '../contracts/keys.ts'
import { loadLuaScript, runLuaScript, type LuaScript } from '../clients/lua.ts'

// The waiting room's state in Redis (docs/ARCHITECTURE.md §10): every step one Lua script on the
// product's shard, over the same six keys (lua/shared.lua lists them). This module is their only caller.

const PRELUDE = readFileSync(new URL('./lua/shared.lua', import.meta.url), 'utf8')
const KEY_COUNT = 6
const script = (name: string): LuaScript => loadLuaScript(new URL(`./lua/${name}.lua`, import.meta.url), KEY_COUNT, PRELUDE)
const SCRIPTS = {
  join: script('join'),
  status: script('status'),
  admit: script('admit'),
  restore: script('restore')
} as const

export type RoomState = 'waiting' | 'admitted' | 'sold-out' | 'none'

export interface RoomStatus {
  state: RoomState
  /** 0-based place in the queue, null when not in it */
  ahead: number | null
  waiting: number
  stock: number
  /** admissions per second (moving average) */
  admittedPerSecond: number
  /** passes outstanding (admitted, not yet used or lapsed) */
  holdingPass: number
  /** the expiry (ms) of the pass the buyer holds, null for none */
  passExpiresAt: number | null
  freed: number
  startsAt: number | null
  /** Redis's clock (ms) */
  now: number
}

export type JoinOutcome = { kind: 'off' } | { kind: 'sign-in-required' } | { kind: 'not-open', opensAt: number } | { kind: 'joined', status: RoomStatus }

export interface AdmitLimits {
  tickMs: number
  keepMs: number
  passMs: number
  window: number
  perTick: number
  maxFreed?: number
}

export type TickOutcome = { kind: 'off' | 'busy' } | {
  kind: 'tick'
  admitted: string[]
  stock: number
  outstanding: number
  usedPerSecond: number
  admittedPerSecond: number
  freed: number
  lapsed: number
  passExpiresAt: number
}

export interface RoomSettings { enabled: boolean, opensSecondsBefore: number }

export interface RoomSummary {
  enabled: boolean
  waiting: number
  holdingPass: number
  joined: number
  admitted: number
  bought: number
  freed: number
  lapsed: number
  admittedPerSecond: number
}

const MAX_FREED_PER_TICK = 500
/**
 * How long a join or an admission waits for one replica to confirm it (WAIT 1). Replication is
 * asynchronous: without this, a master dying right after a join could take the place with it when its
 * replica is promoted. Bounded, so a master with no replica online still answers (then the place is on
 * the master alone until a replica resyncs).
 */
const REPLICA_WAIT_MS = 200
/** After a WAIT no replica answered, how long the product's joins skip it (the replica is down or resyncing). */
const REPLICA_RETRY_MS = 5000

function toStatus (reply: unknown[]): RoomStatus {
  const [state, rank, waiting, stock, rate, expires, freed, starts, now, holding] = reply as [RoomState, number, number, number, string, number, number, number, number, number]
  return {
    state,
    ahead: rank < 0 ? null : rank,
    waiting,
    stock,
    admittedPerSecond: Number(rate),
    holdingPass: holding,
    passExpiresAt: expires > 0 ? expires : null,
    freed,
    startsAt: starts > 0 ? starts : null,
    now
  }
}

export class RoomStore {
  readonly #redis: Cluster
  /** products whose last WAIT no replica answered, until when joins skip it */
  readonly #unreplicatedUntil = new Map<number, number>()
  /** per product: the WAIT on its way, and the one the callers that came after it wait for */
  readonly #waits = new Map<number, { inFlight: Promise<number> | null, next: Promise<number> | null }>()

  constructor (redis: Cluster) { this.#redis = redis }

  async #run (name: keyof typeof SCRIPTS, productId: number, args: Array<string | number>): Promise<unknown[]> {
    const keys = productKeys(productId)
    return await runLuaScript(this.#redis, SCRIPTS[name],
      [keys.room, keys.roomQueue, keys.roomSeen, keys.roomAdmitted, keys.info, keys.stock, ...args]) as unknown[]
  }

  /**
   * Waits (at most REPLICA_WAIT_MS) until a replica of the product's master has what was written so
   * far. Answers how many replicas confirmed. One WAIT serves every caller whose write came before it
   * was sent (group commit): a caller arriving while one is on its way may have written after it, so it
   * waits for the next, which is sent when that one answers and serves everyone who arrived meanwhile.
   */
  async #replicated (productId: number): Promise<number> {
    // With no replica online every WAIT would cost its whole timeout: one a while finds out when it is back.
    if ((this.#unreplicatedUntil.get(productId) ?? 0) > Date.now()) return 0
    let group = this.#waits.get(productId)
    if (group === undefined) {
      group = { inFlight: null, next: null }
      this.#waits.set(productId, group)
    }
    const g = group
    if (g.inFlight === null) {
      g.inFlight = this.#wait(productId).finally(() => { g.inFlight = null })
      return await g.inFlight
    }
    g.next ??= g.inFlight.catch(() => 0).then(async () => {
      g.next = null
      return await this.#replicated(productId)
    })
    return await g.next
  }

  /** One WAIT on the connection to the product's master: the pipeline's EXISTS routes it there. */
  async #wait (productId: number): Promise<number> {
    const replies = await this.#redis.pipeline().exists(productKeys(productId).room).call('WAIT', '1', String(REPLICA_WAIT_MS)).exec()
    const [error, acknowledged] = replies?.[1] ?? [null, 0]
    if (error !== null) throw error
    if (Number(acknowledged) > 0) this.#unreplicatedUntil.delete(productId)
    else this.#unreplicatedUntil.set(productId, Date.now() + REPLICA_RETRY_MS)
    return Number(acknowledged)
  }

  /**
   * `score`: the buyer's score if it joins before the start (decisions.ts preStartScore). Answers once
   * a replica holds the place (or REPLICA_WAIT_MS passed), so a failover keeps it.
   */
  async join (productId: number, buyerId: string, score: number, guest = false): Promise<JoinOutcome> {
    const reply = await this.#run('join', productId, [buyerId, String(score), guest ? '1' : '0'])
    if (reply[0] !== 'OFF' && reply[0] !== 'SIGN_IN_REQUIRED' && reply[0] !== 'NOT_OPEN') await this.#replicated(productId)
    if (reply[0] === 'OFF') return { kind: 'off' }
    if (reply[0] === 'SIGN_IN_REQUIRED') return { kind: 'sign-in-required' }
    if (reply[0] === 'NOT_OPEN') return { kind: 'not-open', opensAt: Number(reply[1]) }
    return { kind: 'joined', status: toStatus(reply) }
  }

  async status (productId: number, buyerId: string): Promise<RoomStatus | null> {
    const reply = await this.#run('status', productId, [buyerId])
    return reply[0] === 'OFF' ? null : toStatus(reply)
  }

  async tick (productId: number, limits: AdmitLimits): Promise<TickOutcome> {
    const reply = await this.#run('admit', productId,
      [limits.tickMs, limits.keepMs, limits.passMs, limits.window, limits.perTick, limits.maxFreed ?? MAX_FREED_PER_TICK])
    if (reply[0] === 'OFF') return { kind: 'off' }
    if (reply[0] === 'BUSY') return { kind: 'busy' }
    const [, admitted, stock, outstanding, usedRate, rate, freed, lapsed, expires] = reply as [string, string[], number, number, string, string, number, number, number]
    // An admission lost in a failover would put the buyer back in line with a pass that no longer buys.
    if (admitted.length > 0) await this.#replicated(productId)
    return { kind: 'tick', admitted, stock, outstanding, usedPerSecond: Number(usedRate), admittedPerSecond: Number(rate), freed, lapsed, passExpiresAt: expires }
  }

  /**
   * Gives back a pass whose order was undone after its reservation used it (StockStore.reserve with
   * `roomPass` uses it up), while it is valid.
   */
  async restore (productId: number, buyerId: string, expiresAt: number): Promise<boolean> {
    return (await this.#run('restore', productId, [buyerId, expiresAt]))[0] === 'RESTORED'
  }

  /** The catalog's switch: the room's settings, and the `rooms` set every gateway copies. */
  async configure (productId: number, settings: RoomSettings): Promise<void> {
    await this.#redis.hset(productKeys(productId).room, 'enabled', settings.enabled ? '1' : '0', 'opensBefore', settings.opensSecondsBefore * 1000)
    if (settings.enabled) await this.#redis.sadd(ROOMS_KEY, String(productId))
    else await this.#redis.srem(ROOMS_KEY, String(productId))
  }

  /** Products whose room is on. */
  async productsWithRooms (): Promise<number[]> {
    return (await this.#redis.smembers(ROOMS_KEY)).map(Number).filter((id) => Number.isSafeInteger(id) && id > 0)
  }

  /** What the admin sees: the counters, and how many wait and hold a pass now. */
  async summary (productId: number): Promise<RoomSummary> {
    const keys = productKeys(productId)
    const [counters, waiting, holding] = await Promise.all([
      this.#redis.hgetall(keys.room), this.#redis.zcard(keys.roomQueue), this.#redis.zcard(keys.roomAdmitted)])
    const count = (field: string): number => Number(counters[field] ?? 0)
    return {
      enabled: counters.enabled === '1',
      waiting,
      holdingPass: holding,
      joined: count('joined'),
      admitted: count('admitted'),
      bought: count('bought'),
      freed: count('freed'),
      lapsed: count('lapsed'),
      admittedPerSecond: count('rate')
    }
  }
}
