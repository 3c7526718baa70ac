import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Pool } from 'mysql2/promise'
import type { StockStore } from '@flash/common/stock'
import type { LoadRecord } from './load.ts'
import type { Sample } from './sampler.ts'
import { countOrders, ordersOfProduct, productStock } from './repository.ts'

// The invariants of docs/ARCHITECTURE.md §2, checked after the sale from MySQL and Redis directly — never from
// what the services say about themselves.

export interface DrainResult {
  drained: boolean
  /** ms from the last response of the sale until every 202 had a row and the ledger was empty */
  drainMs: number
  /** ms epoch when the drain was seen complete */
  doneAt: number
  rows: number
  ledger: number
}

/** Waits until the processor has written every accepted order and cleared its ledger entry. */
export async function drain (pool: Pool, store: StockStore, productId: number, accepted: number, timeoutMs: number, everyMs: number): Promise<DrainResult> {
  const start = performance.now()
  let rows = 0
  let ledger = -1
  for (;;) {
    rows = await countOrders(pool, productId)
    if (rows >= accepted) {
      ledger = (await store.snapshot(productId)).ledger.length
      if (ledger === 0) return { drained: true, drainMs: performance.now() - start, doneAt: Date.now(), rows, ledger }
    }
    if (performance.now() - start > timeoutMs) return { drained: false, drainMs: performance.now() - start, doneAt: Date.now(), rows, ledger }
    await sleep(everyMs)
  }
}

export interface Check { id: string, name: string, ok: boolean, detail: string }

export interface Verification {
  passed: boolean
  checks: Check[]
  /** not invariant violations, but signs that the run did not test what it meant to */
  warnings: string[]
  confirmedUnits: number
  mysqlStock: number | null
  redisStock: number | null
}

export async function verifySale (options: {
  pool: Pool
  store: StockStore
  productId: number
  stock: number
  load: LoadRecord
  samples: Sample[]
  drain: DrainResult
  /** ms epochs when a restock mid-run was sent and answered (its units came back in between), if one was */
  unitsBack?: { sentAt: number, answeredAt: number } | null
}): Promise<Verification> {
  const { pool, store, productId, stock, load } = options
  const checks: Check[] = []
  const warnings: string[] = []
  const check = (id: string, name: string, ok: boolean, detail: string): void => { checks.push({ id, name, ok, detail }) }

  const rows = await ordersOfProduct(pool, productId)
  const product = await productStock(pool, productId)
  const snapshot = await store.snapshot(productId)
  const byId = new Map(rows.map((r) => [r.id, r]))
  const confirmed = rows.filter((r) => r.status === 'confirmed')
  const confirmedUnits = confirmed.reduce((sum, r) => sum + Number(r.quantity), 0)
  const acceptedUnits = load.accepted.size // one unit per order
  const mysqlStock = product?.stock ?? null
  const redisStock = snapshot.available

  let fiveXx = 0
  let refused = 0
  let unanswered = 0
  const otherCodes = new Map<string, number>()
  for (let i = 0; i < load.status.length; i++) {
    const status = load.status[i] ?? 0
    if (status === 0) unanswered++
    else if (status >= 500) fiveXx++
    const code = load.codes.get(i)
    if (code === 'INSUFFICIENT_STOCK') refused++
    else if (code !== undefined) otherCodes.set(`${status} ${code}`, (otherCodes.get(`${status} ${code}`) ?? 0) + 1)
  }

  // I1 no oversell
  // A request the bench gave up on (timeout) or that was answered 5xx may still have been accepted:
  // such orders are confirmed without a 202 the bench saw, so they widen the upper bound, never STOCK.
  const unseen = load.status.reduce((n, status) => n + (status === 0 || status >= 500 ? 1 : 0), 0)
  check('I1', 'units confirmed = min(STOCK, units accepted) (+ orders whose answer was lost), never more than STOCK',
    confirmedUnits <= stock && confirmedUnits >= Math.min(stock, acceptedUnits) && confirmedUnits <= Math.min(stock, acceptedUnits + unseen),
    `confirmed ${confirmedUnits}, accepted ${acceptedUnits}${unseen > 0 ? ` (+ ${unseen} unanswered or 5xx)` : ''}, STOCK ${stock}`)
  check('I1', 'stock never below zero (MySQL, Redis)',
    mysqlStock !== null && mysqlStock >= 0 && redisStock !== null && redisStock >= 0,
    `MySQL ${mysqlStock ?? 'missing'}, Redis ${redisStock ?? 'not on sale'}`)

  // I2 nothing lost
  let missing = 0
  let notConfirmed = 0
  for (const orderId of load.accepted.values()) {
    const row = byId.get(orderId)
    if (row === undefined) missing++
    else if (row.status !== 'confirmed') notConfirmed++
  }
  const distinctIds = new Set(load.accepted.values()).size // two 202s must never share an id
  check('I2', 'every 202 order id has exactly one row in MySQL, in a final state',
    options.drain.drained && missing === 0 && distinctIds === load.accepted.size,
    `${load.accepted.size} answered 202 (${distinctIds} distinct ids), ${missing} without a row, ` +
    `drained ${options.drain.drained ? `in ${Math.round(options.drain.drainMs)} ms` : `NOT within the timeout (${options.drain.rows} rows)`}`)
  check('I2', 'every accepted order confirmed (nothing failed in a sale with stock)', notConfirmed === 0, `${notConfirmed} accepted orders not confirmed`)
  const acceptedIds = new Set(load.accepted.values())
  const unexpected = rows.filter((r) => !acceptedIds.has(r.id)).length
  if (unexpected > 0) {
    const explained = unanswered > 0 || fiveXx > 0
    check('I2', 'no order in MySQL that no buyer was told about', explained,
      `${unexpected} rows whose id no 202 carried (${unanswered} requests unanswered, ${fiveXx} answered 5xx)`)
  }

  // I3 effect once
  check('I3', 'MySQL stock = STOCK − units confirmed (each order took stock once)',
    mysqlStock === stock - confirmedUnits, `MySQL stock ${mysqlStock ?? 'missing'}, expected ${stock - confirmedUnits}`)

  // I4 convergence
  check('I4', 'Redis stock = MySQL stock after the drain', redisStock !== null && redisStock === mysqlStock,
    `Redis ${redisStock ?? 'not on sale'}, MySQL ${mysqlStock ?? 'missing'}`)
  check('I4', 'reservation ledger empty after the drain', snapshot.ledger.length === 0, `${snapshot.ledger.length} ledger entries left`)

  // I5 no false sold-out. One unit per order, so while Redis holds a unit no buyer may be refused.
  check('I5', 'no 409 INSUFFICIENT_STOCK naming units still available', load.refusedWithUnitsLeft.length === 0,
    `${load.refusedWithUnitsLeft.length} refusals said units were left`)
  const requests = load.status.length
  if (requests >= stock && fiveXx === 0 && unanswered === 0) {
    check('I5', 'with ≥ STOCK buyers, exactly STOCK were accepted', acceptedUnits === stock || refused === 0,
      `${acceptedUnits} accepted of ${stock}, ${refused} refused as sold out`)
  } else if (refused > 0 && acceptedUnits < stock) {
    warnings.push(`I5 count check skipped: ${fiveXx} 5xx and ${unanswered} unanswered requests may have returned units after the sell-out`)
  }
  if (fiveXx === 0) {
    const { count, firstAt } = falseSoldOuts(load, options.samples, options.unitsBack ?? null)
    check('I5', 'no refusal while a later Redis sample still showed units', count === 0,
      `${count} refusals answered before a sample that still saw units` +
      (firstAt === null ? '' : `; the first answered at +${Math.round(firstAt - load.epochAt0)} ms`))
  }

  if (unanswered > 0) warnings.push(`${unanswered} requests got no answer (errors or timeouts)`)
  if (load.malformed > 0) warnings.push(`${load.malformed} 2xx answers were not {orderId, status: 'pending'}`)
  for (const [code, count] of otherCodes) warnings.push(`${count} × ${code}: the sale did not only see buyers accepted or refused as sold out`)

  return { passed: checks.every((c) => c.ok), checks, warnings, confirmedUnits, mysqlStock, redisStock }
}

/**
 * Refusals a Redis sample proves false (I5, without 5xx): stock only falls during a sale, so a 409
 * received at r while a sample taken at or after r still saw units was decided while units were
 * left. A restock mid-run starts a second stretch: a request sent before its answer may have been
 * decided before the units came back (the bench measures that stretch as the I5 window), so it
 * counts only if answered before the restock was sent, against samples from before it; a request
 * sent after the restock's answer counts against samples from after it.
 */
export function falseSoldOuts (
  load: Pick<LoadRecord, 'codes' | 'sentAt' | 'receivedAt' | 'epochAt0'>,
  samples: ReadonlyArray<Pick<Sample, 'at' | 'stock'>>,
  unitsBack: { sentAt: number, answeredAt: number } | null
): { count: number, firstAt: number | null } {
  const restockSentAt = unitsBack?.sentAt ?? Number.POSITIVE_INFINITY
  const restockAnsweredAt = unitsBack?.answeredAt ?? Number.POSITIVE_INFINITY
  let count = 0
  let firstAt: number | null = null
  for (const [i, code] of load.codes) {
    if (code !== 'INSUFFICIENT_STOCK') continue
    const sentAt = load.epochAt0 + (load.sentAt[i] ?? 0)
    const receivedAt = load.epochAt0 + (load.receivedAt[i] ?? 0)
    let until: number
    if (receivedAt < restockSentAt) until = restockSentAt // answered before the restock: samples from before it
    else if (sentAt > restockAnsweredAt) until = Number.POSITIVE_INFINITY // sent after it: any later sample
    else continue // in flight across it: the I5 window's stretch
    if (samples.some((s) => s.at >= receivedAt && s.at < until && s.stock !== null && s.stock > 0)) {
      count++
      firstAt = firstAt === null ? receivedAt : Math.min(firstAt, receivedAt)
    }
  }
  return { count, firstAt }
}
