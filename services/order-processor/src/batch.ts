import type { Pool, PoolConnection } from 'mysql2/promise'
import {
  MessageType, newChangeToken, DEFAULT_CURRENCY,
  type OrderMessage, type OrderPlaced, type OrderCancelRequested, type OrderExpireDue,
  type StockStore, type ClaimState, type ChangeOp
} from '@flash/common'
import { ordersRepository, type OrdersRepository, type NewOrder, type LockedOrder } from './orders/repository.ts'
import { FailureReason, decideChange, holdOf, placedFailure, reasonOf, type OrderChange } from './decisions.ts'

// One batch of `orders` messages applied with the protocol of docs/ARCHITECTURE.md §4 step 5:
//   1. per product, register a stock change in Redis and claim the batch's reservations
//   2. one MySQL transaction: insert the new orders (confirmed, or failed with a reason), one guarded
//      stock UPDATE per product, then the cancellations
//   3. after COMMIT, per product: drop the ledger entries, compensate failed orders, return cancelled
//      units, unregister the change (each effect at most once, by the Lua script's own bookkeeping)
// Any failure before 3 completes throws; running the same batch again is harmless (I3): orders already
// in MySQL are replays whose Redis effects are re-emitted, and Redis applies each effect once.
// What happens to each order is decided by the pure functions of ./decisions.ts.

const REQUEST_ID_MAX = 64

export interface OrderBatchDeps {
  pool: Pool
  stock: StockStore
  repository?: OrdersRepository
  /** the currency of priced orders (lower-case ISO 4217, PAYMENT_CURRENCY; DEFAULT_CURRENCY if absent) */
  currency?: string
  /** the clock deciding whether a hold's deadline has passed (tests move it) */
  now?: () => number
}

export interface BatchOutcome {
  /** new orders written confirmed */
  confirmed: number
  /** new orders written failed, by reason */
  failed: Record<string, number>
  /** order.placed already in MySQL (redelivery, replay, retry after a crash) */
  replayed: number
  /** confirmed orders cancelled by this batch */
  cancelled: number
  /** cancellation requests that changed nothing in MySQL (already cancelled, failed, unknown order) */
  cancelIgnored: number
  /** units put back on sale in Redis for failed orders */
  compensatedUnits: number
  /** units put back on sale in Redis for cancelled and expired orders */
  returnedUnits: number
  /** new orders written awaiting payment (a priced product: units held until payBy) */
  held: number
  /** held orders paid */
  paid: number
  /** held orders expired (deadline passed unpaid): units back on sale */
  expired: number
  /** order.paid for an order that could not take it (expired, withdrawn, paid already): the payment-service refunds */
  latePayments: number
}

const firstOfEachOrder = <M extends { orderId: string }>(messages: M[]): M[] => {
  const seen = new Set<string>()
  return messages.filter((m) => !seen.has(m.orderId) && seen.add(m.orderId) !== undefined)
}

/**
 * Applies decoded messages (in partition order). `changeTokens` may be passed again when the same
 * batch is retried, so a retry finishes the changes the failed attempt registered.
 */
export async function applyOrderBatch (deps: OrderBatchDeps, messages: OrderMessage[],
  changeTokens: Map<number, string> = new Map()): Promise<BatchOutcome> {
  const repository = deps.repository ?? ordersRepository
  const placed = firstOfEachOrder(messages.filter((m): m is OrderPlaced => m.type === MessageType.ORDER_PLACED))
  // Every change of an existing order, in partition order: a payment and its order's expiry race to
  // one outcome, decided by which of them the partition (one order, one partition) delivers first.
  const changes = messages.filter((m): m is OrderChange => m.type !== MessageType.ORDER_PLACED)
  const outcome: BatchOutcome = {
    confirmed: 0, failed: {}, replayed: 0, cancelled: 0, cancelIgnored: 0, compensatedUnits: 0, returnedUnits: 0,
    held: 0, paid: 0, expired: 0, latePayments: 0
  }
  if (placed.length === 0 && changes.length === 0) return outcome
  const now = deps.now ?? Date.now

  const byProduct = new Map<number, OrderPlaced[]>()
  for (const order of placed) {
    const list = byProduct.get(order.productId)
    if (list === undefined) byProduct.set(order.productId, [order])
    else list.push(order)
  }
  const registered = new Set<number>()
  const tokenOf = (productId: number): string => {
    registered.add(productId)
    let token = changeTokens.get(productId)
    if (token === undefined) {
      token = newChangeToken('processor')
      changeTokens.set(productId, token)
    }
    return token
  }

  // Step 1: register every change before MySQL moves, so stock sync waits instead of counting a unit
  // twice; cancellations and expiries register one too (no orders to claim).
  const claims = new Map<string, ClaimState>()
  const unitChanges = changes.filter((m): m is OrderCancelRequested | OrderExpireDue => m.type !== MessageType.ORDER_PAID)
  const cancelProducts = unitChanges.map((c) => c.productId).filter((id) => !byProduct.has(id))
  await Promise.all([
    ...[...byProduct].map(async ([productId, orders]) => {
      const states = await deps.stock.beginChange(productId, tokenOf(productId), orders.map((o) => o.orderId))
      orders.forEach((o, i) => claims.set(o.orderId, states[i] ?? 'unknown'))
    }),
    ...[...new Set(cancelProducts)].map((productId) => deps.stock.beginChange(productId, tokenOf(productId)))
  ])

  // Step 2: the transaction.
  const ops = new Map<number, ChangeOp[]>()
  const opsOf = (productId: number): ChangeOp[] => {
    let list = ops.get(productId)
    if (list === undefined) ops.set(productId, list = [])
    return list
  }
  const conn = await deps.pool.getConnection()
  let committed = false
  try {
    await repository.begin(conn)
    const products = await repository.lockProducts(conn, [...new Set([...byProduct.keys(), ...unitChanges.map((c) => c.productId)])])
    // After the product locks: another instance that wrote any of these orders has committed.
    const existing = await repository.existingOrders(conn, placed.map((o) => o.orderId))
    const rows: NewOrder[] = []
    const write = (o: OrderPlaced, status: 'confirmed' | 'failed', reason: string | null): void => {
      const product = products.get(o.productId)
      const hold = status === 'confirmed' && product !== undefined ? holdOf(product, o, deps.currency ?? DEFAULT_CURRENCY) : null
      rows.push({
        id: o.orderId,
        productId: o.productId,
        userId: o.userId,
        quantity: o.quantity,
        status: hold === null ? status : 'awaiting_payment',
        reason,
        requestId: o.requestId === '' ? null : o.requestId.slice(0, REQUEST_ID_MAX),
        createdAt: new Date(o.createdAt),
        amount: hold?.amount ?? null,
        currency: hold?.currency ?? null,
        payBy: hold?.payBy ?? null
      })
      // A held order's units stay sold in Redis exactly like a confirmed one's: its ledger entry goes.
      opsOf(o.productId).push({ op: status === 'confirmed' ? 'confirm' : 'fail', orderId: o.orderId })
      if (hold !== null) outcome.held++
      else if (status === 'confirmed') outcome.confirmed++
      else outcome.failed[reason ?? ''] = (outcome.failed[reason ?? ''] ?? 0) + 1
    }

    for (const [productId, orders] of byProduct) {
      const fresh: OrderPlaced[] = []
      for (const o of orders) {
        const status = existing.get(o.orderId)
        if (status === undefined) { fresh.push(o); continue }
        // A replay: MySQL already has the final state; re-emit its Redis effect in case the crash
        // came between COMMIT and finishChange (Redis applies it once).
        outcome.replayed++
        opsOf(productId).push({ op: status === 'failed' ? 'fail' : 'confirm', orderId: o.orderId })
      }
      if (fresh.length === 0) continue
      const product = products.get(productId)
      const takers: OrderPlaced[] = []
      for (const o of fresh) {
        const failure = placedFailure(product, claims.get(o.orderId))
        if (failure === null) takers.push(o)
        else write(o, 'failed', failure)
      }
      if (takers.length === 0) continue
      const total = takers.reduce((sum, o) => sum + o.quantity, 0)
      if (await repository.takeStock(conn, productId, total)) {
        for (const o of takers) write(o, 'confirmed', null)
        continue
      }
      // MySQL has fewer units than Redis sold: settle in arrival order so only the orders that
      // cannot be honoured fail.
      for (const o of takers) {
        if (await repository.takeStock(conn, productId, o.quantity)) write(o, 'confirmed', null)
        else write(o, 'failed', FailureReason.INSUFFICIENT_STOCK)
      }
    }
    const inserted = await repository.insertOrders(conn, rows)
    if (inserted !== rows.length) {
      // Another transaction wrote some of these orders between our read and our insert: the stock
      // taken for them here must not stick. Roll back; the retry sees them as replays.
      throw Object.assign(new Error(`orders written concurrently (${rows.length - inserted} of ${rows.length})`), { transient: true })
    }

    const returnUnits = async (order: LockedOrder): Promise<void> => {
      if (!registered.has(order.productId)) await deps.stock.beginChange(order.productId, tokenOf(order.productId))
      opsOf(order.productId).push({ op: 'return', orderId: order.id, quantity: order.quantity, userId: order.userId })
    }
    // Every order the changes name, locked in one statement; the changes are decided in partition
    // order on these rows in memory, then written with a few statements per batch (a sale's expiries
    // come thousands at a time: a statement or three per order would hold the product's lock for long).
    const locked = await repository.lockOrders(conn, [...new Set(changes.map((m) => m.orderId))])
    const finals = new Map<string, LockedOrder>()
    const payments = new Map<string, { paymentId: string, paidAt: Date }>()
    const unitsBack = new Map<number, number>()
    const giveBack = (order: LockedOrder): void => { unitsBack.set(order.productId, (unitsBack.get(order.productId) ?? 0) + order.quantity) }
    const toReturn: LockedOrder[] = []
    for (const m of changes) {
      const order = locked.get(m.orderId) ?? null
      const decided = decideChange(order, m, now())
      if (decided.counted !== null) outcome[decided.counted]++
      if (order === null) continue
      if (decided.next !== null) {
        order.status = decided.next
        finals.set(order.id, order)
        if (m.type === MessageType.ORDER_PAID) {
          order.paymentId = m.paymentId
          payments.set(order.id, { paymentId: m.paymentId, paidAt: new Date(m.paidAt) })
        } else {
          giveBack(order)
        }
      }
      if (decided.returnUnits) toReturn.push(order)
    }
    await repository.recordPayments(conn, [...payments].map(([id, p]) => ({ id, ...p })))
    const byStatus = new Map<string, string[]>()
    for (const order of finals.values()) byStatus.set(order.status, [...(byStatus.get(order.status) ?? []), order.id])
    for (const [status, ids] of byStatus) {
      const final = status as 'paid' | 'expired' | 'cancelled'
      await repository.setStatus(conn, ids, final, reasonOf(final))
    }
    for (const [productId, units] of unitsBack) await repository.returnStock(conn, productId, units)
    for (const order of toReturn) await returnUnits(order)
    await conn.commit()
    committed = true
  } catch (error) {
    if (!committed) {
      await conn.rollback().catch(() => {})
      // Nothing changed in MySQL: unregister the changes so stock sync is not held up while we back
      // off (a retry registers them again).
      await Promise.allSettled([...changeTokens].map(([productId, token]) => deps.stock.finishChange(productId, token, [])))
    }
    throw error
  } finally {
    release(conn)
  }

  // Step 3: Redis follows MySQL, once per effect; every registered change is finished, even those
  // with nothing to apply (all replays, cancellations of unknown orders).
  const results = await Promise.all([...changeTokens].map(([productId, token]) => deps.stock.finishChange(productId, token, ops.get(productId) ?? [])))
  for (const r of results) {
    outcome.compensatedUnits += r.compensated
    outcome.returnedUnits += r.returned
  }
  changeTokens.clear()
  return outcome
}

/** A connection whose socket failed must not go back to the pool. */
function release (conn: PoolConnection): void {
  const broken = (conn as unknown as { connection?: { _fatalError?: unknown, stream?: { destroyed?: boolean } } }).connection
  if (broken?._fatalError || broken?.stream?.destroyed) conn.destroy()
  else conn.release()
}

export const failedTotal = (outcome: BatchOutcome): number => Object.values(outcome.failed).reduce((a, b) => a + b, 0)
