import t from 'tap'
import fc from 'fast-check'
import { createRedisCluster } from '../src/clients/redis.ts'
import { StockStore, type ChangeOp, type ClaimState, type ReserveOutcome } from '../src/stock/store.ts'
import { newOrderId, newChangeToken } from '../src/contracts/ids.ts'
import { productKeys } from '../src/contracts/keys.ts'

// Property-based test of the reservation protocol (stock/lua/*.lua) against the real Redis Cluster.
// fast-check generates random interleavings of what the gateway, the processor, the catalog and the
// reconciliation do to one product; an in-memory model plays MySQL (stock + orders, guarded UPDATE,
// primary key on the order id) and mirrors what Redis must hold. After every step:
//   - Redis equals the mirror exactly (available, ledger entries and their claim, units per user);
//   - I1: Redis available >= 0, MySQL stock >= 0, and a reservation Redis still held is never refused by
//     MySQL's guard for lack of stock (Redis never promises what MySQL does not have) unless a
//     simulated failover lost reservations first;
//   - the conservation law: available + pending == MySQL stock + confirmed-but-not-yet-cleared
//     − cancelled-but-not-yet-returned − restocked-but-not-yet-added + drift, where drift is what a lost
//     Redis write (failover) or an abandoned restock put out of line; a successful sync resets it;
//   - I3: each order inserted once, its units taken once, a cancellation returns its units once, and a
//     replayed batch finish changes nothing.

const redis = createRedisCluster(process.env.REDIS_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005,127.0.0.1:7006')
const store = new StockStore(redis)
t.teardown(() => redis.quit())

// Far above the SQL auto-increment range and apart from stock.test.ts's range.
let nextProductId = 950_000_000 + Math.floor(Math.random() * 1_000_000) * 10

const USERS = ['u1', 'u2', 'u3'] as const
const OLD_MS = 10 * 60_000
const STALE_AFTER_MS = 60_000

type SqlStatus = 'confirmed' | 'failed' | 'cancelled'
interface Order {
  id: string
  q: number
  user: string | null
  key: string | null
  fingerprint: string
  old: boolean
  published: boolean
  /** a simulated failover lost its reservation in Redis */
  lost: boolean
}
type Message = { kind: 'placed', id: string } | { kind: 'cancel', id: string }
interface Batch { token: string, messages: Message[], states: ClaimState[], committed: boolean, ops: ChangeOp[] }

interface Model {
  limit: number | null
  // the mirror of Redis
  available: number
  ledger: Map<string, { q: number, user: string | null, claimed: boolean, key: string | null }>
  held: Map<string, number>
  tombstones: Set<string>
  returned: Set<string>
  idem: Map<string, { orderId: string, fingerprint: string }>
  /** change tokens registered in Redis and never finished (open batches, abandoned ones) */
  registered: Set<string>
  // the model of MySQL
  sqlStock: number
  sql: Map<string, { status: SqlStatus, reason: string | null }>
  putOnSale: number
  // the model of Kafka and the processor
  orders: Order[]
  queue: Message[]
  batch: Batch | null
  drift: number
  /** guarded-UPDATE refusals of an order whose reservation Redis still held: must stay 0 */
  redisOverPromised: number
}

interface Real { productId: number }

const byPick = <T>(items: T[], pick: number): T | undefined => items.length === 0 ? undefined : items[pick % items.length]

/** A user's held units; the scripts drop a count that reaches zero or less (`raw`: a plain HINCRBY). */
function heldChange (m: Model, user: string | null, delta: number, raw = false): void {
  if (user === null) return
  const held = (m.held.get(user) ?? 0) + delta
  m.held.set(user, !raw && delta < 0 && held <= 0 ? 0 : held)
}

/** The mirror of release.lua: units back on sale, tombstone, idempotency record dropped. */
function mirrorRelease (m: Model, orderId: string): number {
  const entry = m.ledger.get(orderId)
  if (entry === undefined) return 0
  m.ledger.delete(orderId)
  m.available += entry.q
  heldChange(m, entry.user, -entry.q)
  m.tombstones.add(orderId)
  if (entry.key !== null) m.idem.delete(entry.key)
  return entry.q
}

function checkInvariants (m: Model, snapshot: Awaited<ReturnType<StockStore['snapshot']>>, held: number[]): void {
  if (snapshot.available !== m.available) throw new Error(`redis available ${snapshot.available} != model ${m.available}`)
  const ledger = new Map(snapshot.ledger.map((e) => [e.orderId, e]))
  if (ledger.size !== m.ledger.size) throw new Error(`redis ledger has ${ledger.size} entries, model ${m.ledger.size}`)
  for (const [id, entry] of m.ledger) {
    const real = ledger.get(id)
    if (real === undefined || real.quantity !== entry.q || real.claimed !== entry.claimed || real.userId !== entry.user) {
      throw new Error(`ledger entry ${id}: redis ${JSON.stringify(real)} model ${JSON.stringify(entry)}`)
    }
  }
  USERS.forEach((u, i) => {
    if ((held[i] ?? 0) !== (m.held.get(u) ?? 0)) throw new Error(`user ${u} holds ${held[i]} in redis, model ${m.held.get(u) ?? 0}`)
  })
  // I1
  if (m.available < 0 || m.sqlStock < 0) throw new Error(`negative stock: redis ${m.available}, mysql ${m.sqlStock}`)
  if (m.redisOverPromised > 0) throw new Error(`MySQL refused ${m.redisOverPromised} reservation(s) Redis held: Redis over-promised`)
  let soldUnits = 0
  for (const order of m.orders) if (m.sql.get(order.id)?.status === 'confirmed') soldUnits += order.q
  if (soldUnits > m.putOnSale) throw new Error(`sold ${soldUnits} > put on sale ${m.putOnSale}`)
  // conservation law
  const pending = snapshot.pending
  let confirmedNotCleared = 0
  let cancelledNotReturned = 0
  for (const order of m.orders) {
    const row = m.sql.get(order.id)
    if (row === undefined) continue
    if (row.status !== 'failed' && m.ledger.has(order.id)) confirmedNotCleared += order.q
    if (row.status === 'cancelled' && !m.returned.has(order.id)) cancelledNotReturned += order.q
  }
  const expected = m.sqlStock + confirmedNotCleared - cancelledNotReturned + m.drift
  if (m.available + pending !== expected) {
    throw new Error(`conservation: available ${m.available} + pending ${pending} != mysql ${m.sqlStock} + ${confirmedNotCleared} - ${cancelledNotReturned} + drift ${m.drift}`)
  }
}

async function verify (m: Model, r: Real): Promise<void> {
  const snapshot = await store.snapshot(r.productId)
  const held = await Promise.all(USERS.map((u) => store.heldBy(r.productId, u)))
  checkInvariants(m, snapshot, held)
}

// ---- the gateway -----------------------------------------------------------------------------

class Reserve implements fc.AsyncCommand<Model, Real> {
  readonly q: number
  readonly user: string | null
  readonly key: string | null
  readonly old: boolean
  constructor (q: number, user: string | null, key: string | null, old: boolean) {
    this.q = q; this.user = user; this.key = key; this.old = old
  }

  check (): boolean { return true }
  async run (m: Model, r: Real): Promise<void> {
    const id = newOrderId()
    const fingerprint = `${this.q}:${this.user ?? ''}`
    const outcome = await store.reserve({
      productId: r.productId, orderId: id, quantity: this.q, userId: this.user, idempotencyKey: this.key ?? undefined,
      fingerprint, idempotencyTtlSeconds: 600, now: Date.now() - (this.old ? OLD_MS : 0)
    })
    let expected: ReserveOutcome
    const record = this.key === null ? undefined : m.idem.get(this.key)
    const held = this.user === null ? 0 : m.held.get(this.user) ?? 0
    if (record !== undefined) {
      expected = record.fingerprint === fingerprint
        ? { kind: 'duplicate', orderId: record.orderId }
        : { kind: 'key-reused', orderId: record.orderId }
    } else if (m.limit !== null && this.user === null) {
      // a limit counts units per buyer, so a guest cannot buy a limited product
      expected = { kind: 'sign-in-required' }
    } else if (m.limit !== null && this.user !== null && held + this.q > m.limit) {
      expected = { kind: 'per-user-limit', remaining: Math.max(m.limit - held, 0) }
    } else if (m.available < this.q) {
      // I5: refused as sold out only when fewer units remain than asked for
      expected = { kind: 'insufficient-stock', unitsLeft: m.available }
    } else {
      m.available -= this.q
      heldChange(m, this.user, this.q)
      m.ledger.set(id, { q: this.q, user: this.user, claimed: false, key: this.key })
      if (this.key !== null) m.idem.set(this.key, { orderId: id, fingerprint })
      m.orders.push({ id, q: this.q, user: this.user, key: this.key, fingerprint, old: this.old, published: false, lost: false })
      expected = { kind: 'reserved', unitsLeft: m.available }
    }
    if (JSON.stringify(outcome) !== JSON.stringify(expected)) throw new Error(`reserve: redis ${JSON.stringify(outcome)} model ${JSON.stringify(expected)}`)
    await verify(m, r)
  }

  toString (): string { return `reserve(${this.q}, ${this.user}, ${this.key}, ${this.old ? 'old' : 'new'})` }
}

/** Kafka acknowledged the order: it is in the topic; duplicates of the request may answer 202. */
class Publish implements fc.AsyncCommand<Model, Real> {
  readonly pick: number
  constructor (pick: number) { this.pick = pick }
  check (m: Model): boolean { return m.orders.some((o) => !o.published) }
  async run (m: Model, r: Real): Promise<void> {
    const order = byPick(m.orders.filter((o) => !o.published), this.pick)
    if (order === undefined) return
    order.published = true
    m.queue.push({ kind: 'placed', id: order.id })
    await verify(m, r)
  }

  toString (): string { return `publish(${this.pick})` }
}

/**
 * The publish failed (or timed out): the gateway undoes the reservation before answering 503. A
 * publish that timed out may have landed and been claimed by a processor already: then the undo is
 * refused ('claimed') and changes nothing, and the gateway treats the order as accepted.
 */
class Undo implements fc.AsyncCommand<Model, Real> {
  readonly pick: number
  constructor (pick: number) { this.pick = pick }
  check (m: Model): boolean { return m.ledger.size > 0 }
  async run (m: Model, r: Real): Promise<void> {
    const id = byPick([...m.ledger.keys()], this.pick)
    if (id === undefined) return
    const result = await store.undo(r.productId, id)
    if (m.ledger.get(id)?.claimed === true) {
      if (result.outcome !== 'claimed') throw new Error(`undo of a claimed reservation gave ${JSON.stringify(result)}`)
    } else {
      const expected = mirrorRelease(m, id)
      if (result.outcome !== 'undone' || result.units !== expected) throw new Error(`undo gave ${JSON.stringify(result)}, model ${expected}`)
    }
    await verify(m, r)
  }

  toString (): string { return `undo(${this.pick})` }
}

/** Reconciliation: release reservations never claimed and older than the configured age. */
class ReleaseStale implements fc.AsyncCommand<Model, Real> {
  readonly pick: number
  constructor (pick: number) { this.pick = pick }
  check (m: Model): boolean { return m.orders.length > 0 }
  async run (m: Model, r: Real): Promise<void> {
    const order = byPick(m.orders, this.pick)
    if (order === undefined) return
    const units = await store.releaseStale(r.productId, order.id, Date.now() - STALE_AFTER_MS)
    const entry = m.ledger.get(order.id)
    const expected = entry !== undefined && !entry.claimed && order.old ? mirrorRelease(m, order.id) : 0
    if (units !== expected) throw new Error(`releaseStale returned ${units}, model ${expected}`)
    await verify(m, r)
  }

  toString (): string { return `releaseStale(${this.pick})` }
}

class RequestCancel implements fc.AsyncCommand<Model, Real> {
  readonly pick: number
  constructor (pick: number) { this.pick = pick }
  check (m: Model): boolean { return m.orders.some((o) => m.sql.get(o.id)?.status === 'confirmed') }
  async run (m: Model, r: Real): Promise<void> {
    const order = byPick(m.orders.filter((o) => m.sql.get(o.id)?.status === 'confirmed'), this.pick)
    if (order !== undefined) m.queue.push({ kind: 'cancel', id: order.id })
    await verify(m, r)
  }

  toString (): string { return `requestCancel(${this.pick})` }
}

/** A Redis failover that lost the last writes of a reservation (asynchronous replication). */
class FailoverLosesReservation implements fc.AsyncCommand<Model, Real> {
  readonly pick: number
  constructor (pick: number) { this.pick = pick }
  check (m: Model): boolean { return m.batch === null && m.orders.some((o) => o.published && m.ledger.get(o.id)?.claimed === false) }
  async run (m: Model, r: Real): Promise<void> {
    const order = byPick(m.orders.filter((o) => o.published && m.ledger.get(o.id)?.claimed === false), this.pick)
    if (order === undefined) return
    const keys = productKeys(r.productId)
    // What the promoted replica holds: the state before this reservation (its tombstone-free, so the
    // processor will see the order as 'unknown' and MySQL's guard decides).
    const multi = redis.multi().hdel(keys.ledger, order.id).incrby(keys.stock, order.q)
    if (order.user !== null) multi.hincrby(keys.users, order.user, -order.q)
    await multi.exec()
    m.ledger.delete(order.id)
    m.available += order.q
    heldChange(m, order.user, -order.q, true)
    order.lost = true
    await verify(m, r)
  }

  toString (): string { return `failoverLoses(${this.pick})` }
}

// ---- the processor ---------------------------------------------------------------------------

class BeginBatch implements fc.AsyncCommand<Model, Real> {
  readonly size: number
  constructor (size: number) { this.size = size }
  check (m: Model): boolean { return m.batch === null && m.queue.length > 0 }
  async run (m: Model, r: Real): Promise<void> {
    const messages = m.queue.slice(0, this.size)
    const placed = messages.filter((x) => x.kind === 'placed').map((x) => x.id)
    const token = newChangeToken('prop')
    const states = await store.beginChange(r.productId, token, placed)
    const expected: ClaimState[] = placed.map((id) => {
      const entry = m.ledger.get(id)
      if (entry !== undefined) { entry.claimed = true; return 'live' }
      return m.tombstones.has(id) ? 'void' : 'unknown'
    })
    m.registered.add(token)
    if (JSON.stringify(states) !== JSON.stringify(expected)) throw new Error(`beginChange: redis ${JSON.stringify(states)} model ${JSON.stringify(expected)}`)
    m.batch = { token, messages, states, committed: false, ops: [] }
    await verify(m, r)
  }

  toString (): string { return `beginBatch(${this.size})` }
}

/** The batch's MySQL transaction: insert orders (duplicates ignored), guarded stock update, cancels. */
class CommitBatch implements fc.AsyncCommand<Model, Real> {
  check (m: Model): boolean { return m.batch !== null && !m.batch.committed }
  async run (m: Model, r: Real): Promise<void> {
    const batch = m.batch as Batch
    let placedIndex = 0
    for (const message of batch.messages) {
      const order = m.orders.find((o) => o.id === message.id) as Order
      if (message.kind === 'placed') {
        const state = batch.states[placedIndex++]
        const existing = m.sql.get(order.id)
        if (existing !== undefined) {
          // A redelivery: nothing changes in MySQL; Redis is told the outcome again (harmless).
          batch.ops.push({ op: existing.status === 'failed' ? 'fail' : 'confirm', orderId: order.id })
          continue
        }
        if (state === 'void') {
          m.sql.set(order.id, { status: 'failed', reason: 'reservation released' })
          batch.ops.push({ op: 'fail', orderId: order.id })
        } else if (m.sqlStock >= order.q) {
          m.sqlStock -= order.q
          m.sql.set(order.id, { status: 'confirmed', reason: null })
          batch.ops.push({ op: 'confirm', orderId: order.id })
          if (order.lost) m.drift += order.q
        } else {
          // Only a failover's lost writes (drift > 0) may let Redis promise what MySQL lacks.
          if (state === 'live' && m.drift <= 0) m.redisOverPromised++
          m.sql.set(order.id, { status: 'failed', reason: 'insufficient stock' })
          batch.ops.push({ op: 'fail', orderId: order.id })
        }
      } else {
        const row = m.sql.get(order.id)
        if (row?.status === 'confirmed') {
          row.status = 'cancelled'
          m.sqlStock += order.q
          batch.ops.push({ op: 'return', orderId: order.id, quantity: order.q, userId: order.user })
        } else if (row?.status === 'cancelled') {
          batch.ops.push({ op: 'return', orderId: order.id, quantity: order.q, userId: order.user })
        }
      }
    }
    batch.committed = true
    await verify(m, r)
  }

  toString (): string { return 'commitBatch' }
}

/** After the commit: apply to Redis once, then commit the Kafka offsets — or crash somewhere first. */
class FinishBatch implements fc.AsyncCommand<Model, Real> {
  readonly crash: 'none' | 'before-finish' | 'before-offsets'
  constructor (crash: 'none' | 'before-finish' | 'before-offsets') { this.crash = crash }
  check (m: Model): boolean { return m.batch !== null }
  async run (m: Model, r: Real): Promise<void> {
    const batch = m.batch as Batch
    m.batch = null
    if (!batch.committed || this.crash === 'before-finish') {
      // The processor died: its change stays registered (sync waits for it to be abandoned), its
      // claims stay (no stale release of what is in Kafka), the messages are delivered again.
      await verify(m, r)
      return
    }
    let compensated = 0
    let returned = 0
    for (const op of batch.ops) {
      if (op.op === 'confirm') m.ledger.delete(op.orderId)
      else if (op.op === 'fail') {
        const entry = m.ledger.get(op.orderId)
        if (entry !== undefined) {
          m.ledger.delete(op.orderId)
          m.available += entry.q
          heldChange(m, entry.user, -entry.q)
          compensated += entry.q
        }
      } else if (op.op === 'return' && !m.returned.has(op.orderId)) {
        m.returned.add(op.orderId)
        m.available += op.quantity
        heldChange(m, op.userId, -op.quantity)
        returned += op.quantity
      }
    }
    const result = await store.finishChange(r.productId, batch.token, batch.ops)
    m.registered.delete(batch.token)
    if (result.compensated !== compensated || result.returned !== returned || result.added !== 0) {
      throw new Error(`finishChange: redis ${JSON.stringify(result)} model ${JSON.stringify({ compensated, returned })}`)
    }
    // I3: replaying the same finish changes nothing.
    const replay = await store.finishChange(r.productId, batch.token, batch.ops)
    if (replay.compensated !== 0 || replay.returned !== 0) throw new Error(`a replayed finish changed Redis: ${JSON.stringify(replay)}`)
    if (this.crash === 'none') m.queue.splice(0, batch.messages.length)
    await verify(m, r)
  }

  toString (): string { return `finishBatch(crash: ${this.crash})` }
}

// ---- the catalog -----------------------------------------------------------------------------

class Restock implements fc.AsyncCommand<Model, Real> {
  readonly units: number
  readonly crash: boolean
  constructor (units: number, crash: boolean) { this.units = units; this.crash = crash }
  check (): boolean { return true }
  async run (m: Model, r: Real): Promise<void> {
    const token = newChangeToken('restock')
    await store.beginChange(r.productId, token)
    m.sqlStock += this.units
    m.putOnSale += this.units
    if (this.crash) {
      // committed in MySQL, never added in Redis: under-states until a sync (after the change is abandoned)
      m.registered.add(token)
      m.drift -= this.units
    } else {
      const result = await store.finishChange(r.productId, token, [{ op: 'add', quantity: this.units }])
      m.available += this.units
      if (result.added !== this.units) throw new Error(`restock added ${result.added}`)
    }
    await verify(m, r)
  }

  toString (): string { return `restock(${this.units}${this.crash ? ', crash' : ''})` }
}

/** `sync:stock`; optionally a whole processor batch lands between its MySQL read and its script. */
class Sync implements fc.AsyncCommand<Model, Real> {
  readonly racing: boolean
  constructor (racing: boolean) { this.racing = racing }
  check (m: Model): boolean { return !this.racing || (m.batch === null && m.queue.length > 0) }
  async run (m: Model, r: Real): Promise<void> {
    let reads = 0
    const outcome = await store.sync(r.productId, async () => {
      reads++
      const stock = m.sqlStock
      if (this.racing && reads === 1) {
        await new BeginBatch(50).run(m, r)
        await new CommitBatch().run(m, r)
        await new FinishBatch('none').run(m, r)
      }
      return { stock, status: 'active', perUserLimit: m.limit }
    }, { attempts: 2 })
    if (m.registered.size > 0) {
      if (outcome.outcome !== 'busy') throw new Error(`sync ran while a change was registered: ${JSON.stringify(outcome)}`)
    } else {
      if (outcome.outcome !== 'set') throw new Error(`sync: ${JSON.stringify(outcome)}`)
      if (this.racing && reads !== 2) throw new Error('sync did not read MySQL again after a change raced it')
      const pending = [...m.ledger.values()].reduce((s, e) => s + e.q, 0)
      m.available = Math.max(m.sqlStock - pending, 0)
      // Sync never sets a negative figure: when a failover lost reservations and Redis went on to
      // promise more than MySQL holds, the excess stays promised (those orders will fail in MySQL).
      m.drift = Math.max(pending - m.sqlStock, 0)
    }
    await verify(m, r)
  }

  toString (): string { return `sync(${this.racing ? 'racing a batch' : 'quiet'})` }
}

const reserveCommand = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom<string | null>(...USERS, null), fc.constantFrom<string | null>(null, null, 'k1', 'k2', 'k3'), fc.boolean())
  .map(([q, user, key, old]) => new Reserve(q, user, key, old))
const commands = [
  // weights by repetition: most of a sale is reserving, publishing and processing
  reserveCommand, reserveCommand, reserveCommand,
  fc.nat().map((p) => new Publish(p)),
  fc.nat().map((p) => new Publish(p)),
  fc.nat().map((p) => new Publish(p)),
  fc.nat().map((p) => new Undo(p)),
  fc.nat().map((p) => new ReleaseStale(p)),
  fc.nat().map((p) => new RequestCancel(p)),
  fc.nat().map((p) => new FailoverLosesReservation(p)),
  fc.integer({ min: 1, max: 6 }).map((n) => new BeginBatch(n)),
  fc.integer({ min: 1, max: 6 }).map((n) => new BeginBatch(n)),
  fc.constant(new CommitBatch()),
  fc.constant(new CommitBatch()),
  fc.constantFrom<'none' | 'before-finish' | 'before-offsets'>('none').map((c) => new FinishBatch(c)),
  fc.constantFrom<'none' | 'before-finish' | 'before-offsets'>('none', 'none', 'before-finish', 'before-offsets').map((c) => new FinishBatch(c)),
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.boolean()).map(([n, crash]) => new Restock(n, crash && n % 3 === 0)),
  fc.boolean().map((racing) => new Sync(racing))
]

async function freshProduct (stock: number, limit: number | null): Promise<{ model: Model, real: Real }> {
  const productId = nextProductId++
  const outcome = await store.sync(productId, async () => ({ stock, status: 'active', perUserLimit: limit }))
  if (outcome.outcome !== 'set') throw new Error('could not put the product on sale')
  const result = {
    real: { productId },
    model: {
      limit, available: stock, ledger: new Map(), held: new Map(), tombstones: new Set(), returned: new Set(), idem: new Map(),
      registered: new Set(), sqlStock: stock, sql: new Map(), putOnSale: stock, orders: [], queue: [], batch: null, drift: 0, redisOverPromised: 0
    } satisfies Model
  }
  created.push({ productId, model: result.model })
  return result
}

const created: Array<{ productId: number, model: Model }> = []
t.teardown(async () => {
  // Leave no keys behind (tombstones and markers would otherwise live for a week).
  for (const { productId, model } of created) {
    const keys = productKeys(productId)
    const markers = model.orders.flatMap((o) => [`${keys.voidPrefix}${o.id}`, `${keys.returnedPrefix}${o.id}`])
    await redis.del(keys.stock, keys.info, keys.users, keys.ledger, keys.changes, keys.seq,
      ...['k1', 'k2', 'k3'].map((k) => `${keys.idemPrefix}${k}`), ...markers)
  }
})

t.test('random interleavings of reserve, undo, stale release, batches, cancels, restock and sync keep I1 and I3', async (t) => {
  let runs = 0
  let commandsRun = 0
  let ordersChecked = 0
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 0, max: 12 }), fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }), fc.commands(commands, { maxCommands: 60, size: 'max' }),
    async (stock, limit, cmds) => {
      const { model, real } = await freshProduct(stock, limit)
      await fc.asyncModelRun(() => ({ model, real }), cmds)
      if (process.env.PROPERTY_TRACE) console.error(String(cmds), model.orders.length, model.sql.size, model.queue.length)
      // Drain: the processor (crash-free now) applies everything still in Kafka, then a sync once no
      // change is registered would set available = MySQL − pending; here changes abandoned by a crash
      // stay registered, so check the law with the drift they leave.
      while (model.queue.length > 0) {
        if (model.batch === null) await new BeginBatch(50).run(model, real)
        if (!(model.batch as Batch).committed) await new CommitBatch().run(model, real)
        await new FinishBatch('none').run(model, real)
      }
      // I3: no order has two rows (a Map cannot), every published order has exactly one final row.
      for (const order of model.orders) {
        if (order.published && !model.sql.has(order.id)) throw new Error(`published order ${order.id} never reached a final state`)
      }
      runs++
      commandsRun += [...cmds].length
      ordersChecked += model.orders.length
    }), { numRuns: Number(process.env.PROPERTY_RUNS ?? 150), interruptAfterTimeLimit: 120_000, ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED), path: process.env.PROPERTY_PATH } : {}) })
  // fc.assert throws on the first run whose Redis state left the model or broke an invariant; these
  // say the property was exercised, not vacuously true.
  t.ok(runs > 0, `${runs} random runs kept Redis equal to the model and the invariants true`)
  t.ok(commandsRun > runs, `${commandsRun} commands interleaved`)
  t.ok(ordersChecked > 0, `${ordersChecked} orders followed to a final state`)
})

t.test('a released reservation whose order arrives later fails instead of taking stock (tombstone)', async (t) => {
  const { model, real } = await freshProduct(3, null)
  await new Reserve(2, 'u1', null, true).run(model, real)
  await new ReleaseStale(0).run(model, real)
  t.equal(model.available, 3, 'the stale reservation went back on sale')
  await new Publish(0).run(model, real)
  await new BeginBatch(1).run(model, real)
  t.same(model.batch?.states, ['void'])
  await new CommitBatch().run(model, real)
  await new FinishBatch('none').run(model, real)
  t.same(model.sql.get(model.orders[0]?.id ?? ''), { status: 'failed', reason: 'reservation released' })
  t.equal(model.sqlStock, 3)
  t.equal((await store.snapshot(real.productId)).available, 3, 'units counted once in Redis too')
})
