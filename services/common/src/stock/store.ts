import type { Cluster } from 'ioredis'
import { readFileSync } from 'node:fs'
import { productKeys, productTag as productTagOf, STOCK_EVENTS_CHANNEL } from '../contracts/keys.ts'
import { loadLuaScript, runLuaScript, type LuaScript } from '../clients/lua.ts'
import { sleep } from '../platform/sleep.ts'
import type { OrderPlaced } from '../contracts/messages.ts'
import type { RoomPass } from '../room/pass.ts'

// The stock that Redis holds for sale, and every way it changes. Each change is one Lua script on the
// product's shard (all its keys share the hash tag), so no interleaving of requests can break I1/I3.
// The scripts live in ./lua as .lua files; this module is their only caller.

// What every script shares (record formats, returning units, announcing a change): lua/shared.lua,
// after the channel name, which is defined once in keys.ts.
const PRELUDE = `local STOCK_EVENTS_CHANNEL = '${STOCK_EVENTS_CHANNEL}'\n` +
  readFileSync(new URL('./lua/shared.lua', import.meta.url), 'utf8')

const script = (name: string, numberOfKeys: number): LuaScript =>
  loadLuaScript(new URL(`./lua/${name}.lua`, import.meta.url), numberOfKeys, PRELUDE)

const SCRIPTS = {
  fsReserve: script('reserve', 5),
  // reserve.lua's body as a function, then the pass check around it (lua/reserve-with-pass.lua)
  fsReserveWithPass: loadLuaScript(new URL('./lua/reserve-with-pass.lua', import.meta.url), 7,
    `${PRELUDE}local function reserve ()\n${readFileSync(new URL('./lua/reserve.lua', import.meta.url), 'utf8')}\nend\n`),
  fsRelease: script('release', 4),
  fsBeginChange: script('begin-change', 3),
  fsFinishChange: script('finish-change', 5),
  fsSync: script('sync', 5),
  fsSnapshot: script('snapshot', 4)
} as const

type ScriptName = keyof typeof SCRIPTS
type ScriptCaller = (...args: Array<string | number>) => Promise<unknown>

/**
 * A registered stock change older than this was abandoned by a dead process: sync stops waiting for
 * it (its reservations stay in the ledger, so this can only under-state what is available).
 */
export const ABANDONED_CHANGE_MS = 60_000

/** Tombstones and cancellation markers outlive any redelivery of the order's messages. */
const MARKER_TTL_SECONDS = 7 * 24 * 3600

export type ReserveOutcome =
  | { kind: 'reserved', unitsLeft: number }
  /** the key was used before with the same request: its order (the gateway checks it was acknowledged) */
  | { kind: 'duplicate', orderId: string }
  | { kind: 'key-reused', orderId: string }
  | { kind: 'not-on-sale' }
  | { kind: 'per-user-limit', remaining: number }
  | { kind: 'insufficient-stock', unitsLeft: number }
  /** before the sale window: `startsAt` and Redis's clock (`redisNow`), both ms epoch */
  | { kind: 'sale-not-started', startsAt: number, redisNow: number }
  | { kind: 'sale-ended', endsAt: number }
  | { kind: 'sign-in-required' }
  /** the waiting room's pass is not one the buyer holds (used, lapsed, never issued) */
  | { kind: 'room-pass-invalid' }

/** A waiting-room pass as the reservation uses it up: whose it is and until when it is valid (ms epoch). */
export type RoomPassUse = Pick<RoomPass, 'buyerId' | 'expiresAt'>

/** An order's reservation: the order as it will be published (OrderPlaced), plus how it is reserved. */
export interface ReserveRequest extends Pick<OrderPlaced, 'productId' | 'orderId' | 'quantity' | 'userId'> {
  /** Idempotency-Key header, if the client sent one */
  idempotencyKey?: string | undefined
  /** what makes two requests "the same": a hash of quantity and userId (the record is per product) */
  fingerprint?: string | undefined
  idempotencyTtlSeconds: number
  now?: number
  /** a product whose waiting room is on: the pass (its buyer and expiry), used up by the reservation */
  roomPass?: RoomPassUse | undefined
}

export type ClaimState = 'live' | 'void' | 'unknown'

export type ChangeOp =
  | { op: 'confirm', orderId: string }
  | { op: 'fail', orderId: string }
  | { op: 'return', orderId: string, quantity: number, userId: string | null }
  | { op: 'add', quantity: number }

export interface ChangeResult { compensated: number, returned: number, added: number }

/** A ledger entry as the scripts store it (lua/shared.lua describes the format). */
interface LedgerRecord { quantity: number, user: string, reservedAt: string, state: 'reserved' | 'claimed', idempotencyRecord: string }

/** An idempotency record as reserve.lua stores it. */
interface IdempotencyRecord { orderId: string, fingerprint: string }

export interface LedgerEntry { orderId: string, quantity: number, userId: string | null, reservedAt: number, claimed: boolean }

export interface StockSnapshot {
  productId: number
  /** null when the product is not on sale in Redis */
  available: number | null
  status: 'active' | 'archived' | null
  perUserLimit: number | null
  seq: string
  ledger: LedgerEntry[]
  /** units reserved in Redis but not yet applied in MySQL */
  pending: number
}

/** The sale window as the reservation script sees it: ms epoch, null for "no bound". */
export interface SaleWindow { startsAt: number | null, endsAt: number | null }

export interface MysqlStock {
  stock: number
  status: 'active' | 'archived'
  perUserLimit: number | null
  /** absent: the caller does not know the window, and sync leaves Redis's as it is */
  window?: SaleWindow
}

/** What setInfo publishes to the reservation script; absent fields stay as they are. */
export interface ProductInfoChange {
  status?: 'active' | 'archived'
  perUserLimit?: number | null
  window?: SaleWindow
}

const windowBound = (ms: number | null): string => ms === null ? '' : String(ms)

export type SyncOutcome =
  | { outcome: 'set', before: number | null, after: number, pending: number, mysqlStock: number }
  | { outcome: 'busy' }
  | { outcome: 'missing' }

export class StockStore {
  readonly #redis: Cluster
  readonly #call: Record<ScriptName, ScriptCaller>

  constructor (redis: Cluster) {
    this.#redis = redis
    const callers = {} as Record<ScriptName, ScriptCaller>
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
      callers[name] = (...args) => runLuaScript(redis, SCRIPTS[name], args)
    }
    this.#call = callers
  }

  /** The hot path: one script call per order (auto-pipelined with its neighbours). */
  async reserve (request: ReserveRequest): Promise<ReserveOutcome> {
    const keys = productKeys(request.productId)
    const idemKey = `${keys.idemPrefix}${request.idempotencyKey ?? ''}`
    const fingerprint = request.idempotencyKey ? (request.fingerprint ?? 'same') : ''
    const pass = request.roomPass
    const reply = (pass === undefined
      ? await this.#call.fsReserve(
        keys.stock, keys.info, keys.users, keys.ledger, idemKey,
        request.orderId, request.quantity, request.userId ?? '', request.now ?? Date.now(),
        request.idempotencyTtlSeconds, fingerprint)
      : await this.#call.fsReserveWithPass(
        keys.stock, keys.info, keys.users, keys.ledger, idemKey, keys.room, keys.roomAdmitted,
        request.orderId, request.quantity, request.userId ?? '', request.now ?? Date.now(),
        request.idempotencyTtlSeconds, fingerprint, pass.buyerId, pass.expiresAt)) as string[]
    const [kind, value = '', extra = ''] = reply
    switch (kind) {
      case 'RESERVED': return { kind: 'reserved', unitsLeft: Number(value) }
      case 'DUPLICATE': return { kind: 'duplicate', orderId: value }
      case 'KEY_REUSED': return { kind: 'key-reused', orderId: value }
      case 'NOT_ON_SALE': return { kind: 'not-on-sale' }
      case 'PER_USER_LIMIT': return { kind: 'per-user-limit', remaining: Number(value) }
      case 'INSUFFICIENT_STOCK': return { kind: 'insufficient-stock', unitsLeft: Number(value) }
      case 'SALE_NOT_STARTED': return { kind: 'sale-not-started', startsAt: Number(value), redisNow: Number(extra) }
      case 'SALE_ENDED': return { kind: 'sale-ended', endsAt: Number(value) }
      case 'SIGN_IN_REQUIRED': return { kind: 'sign-in-required' }
      case 'ROOM_PASS_INVALID': return { kind: 'room-pass-invalid' }
      default: throw new Error(`unexpected reserve reply ${JSON.stringify(reply)}`)
    }
  }

  /** The order a request with this Idempotency-Key reserved, or null (none, or its publish failed). */
  async idempotencyRecord (productId: number, idempotencyKey: string): Promise<{ orderId: string } | null> {
    const raw = await this.#redis.get(`${productKeys(productId).idemPrefix}${idempotencyKey}`)
    if (raw === null) return null
    const record = JSON.parse(raw) as IdempotencyRecord
    return { orderId: record.orderId }
  }

  /**
   * Undo a reservation whose publish failed: 'undone' (units back on sale, tombstone left), 'absent'
   * (nothing reserved under this id), or 'claimed' — a processor already holds the order, so the
   * message did reach Kafka and the order must be treated as accepted.
   */
  async undo (productId: number, orderId: string): Promise<{ outcome: 'undone', units: number } | { outcome: 'absent' | 'claimed' }> {
    const units = await this.#release(productId, orderId, 'undo', 0)
    if (units < 0) return { outcome: 'claimed' }
    return units === 0 ? { outcome: 'absent' } : { outcome: 'undone', units }
  }

  /** Release a reservation never claimed by a processor and older than `cutoff` (ms epoch); units returned. */
  async releaseStale (productId: number, orderId: string, cutoff: number): Promise<number> {
    return Math.max(await this.#release(productId, orderId, 'stale', cutoff), 0)
  }

  async #release (productId: number, orderId: string, mode: 'undo' | 'stale', cutoff: number): Promise<number> {
    const keys = productKeys(productId)
    return Number(await this.#call.fsRelease(keys.stock, keys.users, keys.ledger, `${keys.voidPrefix}${orderId}`,
      orderId, MARKER_TTL_SECONDS, mode, cutoff))
  }

  /** Before a MySQL stock change: register it and claim the reservations it applies. */
  async beginChange (productId: number, token: string, orderIds: string[] = []): Promise<ClaimState[]> {
    const keys = productKeys(productId)
    return await this.#call.fsBeginChange(keys.ledger, keys.changes, keys.seq, token, Date.now(), keys.voidPrefix, ...orderIds) as ClaimState[]
  }

  /** After the MySQL transaction committed: apply its effects to Redis once, unregister the change. */
  async finishChange (productId: number, token: string, ops: ChangeOp[]): Promise<ChangeResult> {
    const keys = productKeys(productId)
    const args: Array<string | number> = []
    for (const op of ops) {
      if (op.op === 'add') args.push('add', '-', op.quantity, '')
      else if (op.op === 'return') args.push('return', op.orderId, op.quantity, op.userId ?? '')
      else args.push(op.op, op.orderId, 0, '')
    }
    const [compensated = 0, returned = 0, added = 0] = await this.#call.fsFinishChange(
      keys.stock, keys.users, keys.ledger, keys.changes, keys.seq,
      token, keys.returnedPrefix, MARKER_TTL_SECONDS, ...args) as number[]
    return { compensated, returned, added }
  }

  /**
   * Put MySQL stock on sale: available = MySQL stock − pending reservations. `readMysql` is called
   * after `seq` is read, and the script refuses if anything changed in between, so the figure written
   * never counts a unit twice. Retries a few times; 'busy' means a change kept being in flight.
   */
  async sync (productId: number, readMysql: () => Promise<MysqlStock | null>,
    options: { attempts?: number, abandonedAfterMs?: number } = {}): Promise<SyncOutcome> {
    const keys = productKeys(productId)
    const attempts = options.attempts ?? 20
    for (let attempt = 0; attempt < attempts; attempt++) {
      const seq = (await this.#redis.get(keys.seq)) ?? '0'
      const mysql = await readMysql()
      if (mysql === null) return { outcome: 'missing' }
      const reply = await this.#call.fsSync(keys.stock, keys.info, keys.ledger, keys.changes, keys.seq,
        seq, mysql.stock, mysql.status, mysql.perUserLimit ?? '', Date.now(), options.abandonedAfterMs ?? ABANDONED_CHANGE_MS,
        mysql.window === undefined ? '-' : windowBound(mysql.window.startsAt),
        mysql.window === undefined ? '-' : windowBound(mysql.window.endsAt)) as string[]
      if (reply[0] === 'SET') {
        const before = reply[1] === '' || reply[1] === undefined ? null : Number(reply[1])
        return { outcome: 'set', before, after: Number(reply[2]), pending: Number(reply[3]), mysqlStock: mysql.stock }
      }
      await sleep(Math.min(5 * 2 ** attempt, 200))
    }
    return { outcome: 'busy' }
  }

  async snapshot (productId: number): Promise<StockSnapshot> {
    const keys = productKeys(productId)
    const reply = await this.#call.fsSnapshot(keys.stock, keys.info, keys.ledger, keys.seq) as string[]
    const [available = '', status = '', limit = '', seq = '0', ...flat] = reply
    const ledger: LedgerEntry[] = []
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const entry = JSON.parse(flat[i + 1] as string) as LedgerRecord
      ledger.push({ orderId: flat[i] as string, quantity: entry.quantity, userId: entry.user === '' ? null : entry.user, reservedAt: Number(entry.reservedAt), claimed: entry.state === 'claimed' })
    }
    return {
      productId,
      available: available === '' ? null : Number(available),
      status: status === '' ? null : status as 'active' | 'archived',
      perUserLimit: limit === '' ? null : Number(limit),
      seq,
      ledger,
      pending: ledger.reduce((sum, e) => sum + e.quantity, 0)
    }
  }

  /** Live available units of several products (null: not on sale). One round trip per shard. */
  async available (productIds: number[]): Promise<Map<number, number | null>> {
    const values = await Promise.all(productIds.map((id) => this.#redis.get(productKeys(id).stock)))
    return new Map(productIds.map((id, i) => [id, values[i] == null ? null : Number(values[i])]))
  }

  /**
   * Status, per-user limit and sale window as the reservation script sees them (archive, PATCH). Bumps `seq` in
   * the same transaction, so a sync that read MySQL before this change cannot write the old status back.
   */
  async setInfo (productId: number, info: ProductInfoChange): Promise<void> {
    const fields: string[] = []
    // A window bound that is null has no field at all (as sync.lua leaves it): the reservation script reads absent as "no bound".
    const cleared: string[] = []
    if (info.status !== undefined) fields.push('status', info.status)
    if (info.perUserLimit !== undefined) fields.push('limit', info.perUserLimit === null ? '' : String(info.perUserLimit))
    if (info.window !== undefined) {
      for (const [field, bound] of [['starts', info.window.startsAt], ['ends', info.window.endsAt]] as const) {
        if (bound === null) cleared.push(field)
        else fields.push(field, windowBound(bound))
      }
    }
    if (fields.length === 0 && cleared.length === 0) return
    const keys = productKeys(productId)
    // Announced in the same transaction: a gateway that remembered the product as not on sale asks again.
    const transaction = this.#redis.multi().incr(keys.seq)
    if (fields.length > 0) transaction.hset(keys.info, ...fields)
    if (cleared.length > 0) transaction.hdel(keys.info, ...cleared)
    const results = await transaction.publish(STOCK_EVENTS_CHANNEL, productTagOf(productId)).exec()
    const failed = results?.find(([error]) => error !== null)
    if (results === null || failed) throw failed?.[0] ?? new Error('setInfo transaction aborted')
  }

  /** Units a user holds of a product (reserved or confirmed). */
  async heldBy (productId: number, userId: string): Promise<number> {
    return Number(await this.#redis.hget(productKeys(productId).users, userId) ?? 0)
  }
}
