import type { Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { syncStock } from './catalog.ts'
import type { Clients } from './stack.ts'
import { sleep } from '@flash/common'
import type { Purchase, SaleResult } from './load.ts'

// THE invariant check every fault scenario ends with (docs/ARCHITECTURE.md §2, I1–I5), against MySQL and Redis,
// for the scenario's own products and buyers only (other suites may share the servers).
//   drain  every 202 reaches a final state in MySQL within a deadline (I2), polled, never slept on;
//   I4     Redis converges: no reservation left pending, Redis available == MySQL stock;
//   I1     MySQL stock + confirmed units == units ever put on sale, confirmed <= put on sale, Redis >= 0;
//   I3     one buyer (one click, one Idempotency-Key) is charged at most once; one key, one order id;
//   I5     every "sold out" answer said fewer units were left than the buyer asked for;
//   and no POST /orders was answered with a 5xx other than 503.

/** Order states whose units are off sale: confirmed (free), held for payment, paid. */
const TAKEN = new Set(['confirmed', 'awaiting_payment', 'paid'])

export interface ProductUnderTest { id: number, putOnSale: number }

export interface InvariantInput {
  products: ProductUnderTest[]
  sales: SaleResult[]
  /** orders accepted outside the load driver (orderId → product) that must reach a final state too */
  extraAccepted?: Map<string, { productId: number, quantity: number }>
  /** a Redis failover may have lost writes: run the operator's stock sync before checking convergence */
  syncBeforeConvergence?: boolean
  drainTimeoutMs?: number
  convergeTimeoutMs?: number
}

interface OrderRow extends RowDataPacket { id: string, product_id: number, user_id: string | null, quantity: number, status: string, reason: string | null }

export interface InvariantReport {
  finalStates: Record<string, number>
  drainMs: number
  ghostsConfirmed: number
  failedReasons: Record<string, number>
}

async function ordersByIds (clients: Clients, ids: string[]): Promise<Map<string, OrderRow>> {
  const found = new Map<string, OrderRow>()
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500)
    const [rows] = await clients.mysql.query<OrderRow[]>('SELECT id, product_id, user_id, quantity, status, reason FROM orders WHERE id IN (?)', [chunk])
    for (const row of rows) found.set(row.id, row)
  }
  return found
}

/** Polls MySQL until every id has a row (the processor only writes final states), or the deadline. */
export async function waitForFinal (clients: Clients, ids: string[], timeoutMs: number): Promise<{ rows: Map<string, OrderRow>, missing: string[] }> {
  const deadline = Date.now() + timeoutMs
  let rows = new Map<string, OrderRow>()
  let missing = ids
  while (true) {
    if (missing.length > 0) {
      const found = await ordersByIds(clients, missing)
      rows = new Map([...rows, ...found])
      missing = missing.filter((id) => !found.has(id))
    }
    if (missing.length === 0 || Date.now() > deadline) return { rows, missing }
    await sleep(500)
  }
}

interface Convergence { productId: number, available: number | null, pending: number, ledger: number, mysqlStock: number }

async function convergence (clients: Clients, productId: number): Promise<Convergence> {
  const snapshot = await clients.store.snapshot(productId)
  const [rows] = await clients.mysql.query<RowDataPacket[]>('SELECT stock FROM products WHERE id = ?', [productId])
  return { productId, available: snapshot.available, pending: snapshot.pending, ledger: snapshot.ledger.length, mysqlStock: Number(rows[0]?.stock ?? -1) }
}

export async function checkInvariants (t: Test, clients: Clients, input: InvariantInput): Promise<InvariantReport> {
  const started = Date.now()
  const purchases: Purchase[] = input.sales.flatMap((s) => s.purchases)
  const accepted = new Map<string, { productId: number, quantity: number }>()
  for (const sale of input.sales) for (const [id, p] of sale.accepted) accepted.set(id, { productId: p.productId, quantity: p.quantity })
  for (const [id, o] of input.extraAccepted ?? []) accepted.set(id, o)

  // No 5xx other than 503 (a 503 is the documented "try again"; a 500 is a bug).
  const serverErrors = purchases.flatMap((p) => p.attempts.filter((a) => typeof a.status === 'number' && a.status >= 500 && a.status !== 503))
  t.equal(serverErrors.length, 0, 'no POST /orders answered a 5xx other than 503', { found: serverErrors.slice(0, 5) })

  // I3 at the door: one key, one order id, whatever the retries.
  const twoIds = purchases.filter((p) => new Set(p.attempts.filter((a) => a.status === 202).map((a) => a.orderId)).size > 1)
  t.equal(twoIds.length, 0, 'every Idempotency-Key was answered with one order id', { found: twoIds.slice(0, 3).map((p) => p.attempts) })

  // I2: every 202 reaches a final state.
  const { rows, missing } = await waitForFinal(clients, [...accepted.keys()], input.drainTimeoutMs ?? 90_000)
  const drainMs = Date.now() - started
  t.equal(missing.length, 0, `every 202 (${accepted.size}) reached a final state in MySQL`, { missing: missing.slice(0, 10) })
  const finalStates: Record<string, number> = {}
  const failedReasons: Record<string, number> = {}
  for (const row of rows.values()) {
    finalStates[row.status] = (finalStates[row.status] ?? 0) + 1
    if (row.status === 'failed') failedReasons[row.reason ?? '(none)'] = (failedReasons[row.reason ?? '(none)'] ?? 0) + 1
  }
  const reasonless = [...rows.values()].filter((r) => r.status === 'failed' && (r.reason === null || r.reason === ''))
  t.equal(reasonless.length, 0, 'every failed order carries a reason')
  const mismatched = [...rows.values()].filter((r) => accepted.get(r.id)?.productId !== Number(r.product_id) || accepted.get(r.id)?.quantity !== r.quantity)
  t.equal(mismatched.length, 0, 'every order row matches what its buyer asked for')

  if (input.syncBeforeConvergence === true) {
    // Anything the failover made Redis forget or over-state is put right by the operator's sync.
    await waitUntilSynced(input.products.map((p) => p.id))
  }

  // I4: Redis converges to MySQL, no reservation stays pending.
  const deadline = Date.now() + (input.convergeTimeoutMs ?? 60_000)
  let states: Convergence[] = []
  while (true) {
    states = await Promise.all(input.products.map((p) => convergence(clients, p.id)))
    if (states.every((s) => s.ledger === 0 && s.available === s.mysqlStock) || Date.now() > deadline) break
    await sleep(500)
  }
  for (const s of states) {
    t.equal(s.ledger, 0, `product ${s.productId}: no reservation left pending in Redis`, { state: s })
    t.equal(s.available, s.mysqlStock, `product ${s.productId}: Redis available equals MySQL stock`, { state: s })
  }

  // I1 (and I3 for stock): units are conserved in MySQL, and never more than were put on sale.
  for (const product of input.products) {
    const [[stockRow]] = await clients.mysql.query<RowDataPacket[]>('SELECT stock FROM products WHERE id = ?', [product.id]) as unknown as [RowDataPacket[]]
    const [sums] = await clients.mysql.query<RowDataPacket[]>(
      'SELECT status, COUNT(*) AS n, COALESCE(SUM(quantity), 0) AS units FROM orders WHERE product_id = ? GROUP BY status', [product.id])
    // Units taken from sale: free orders confirmed, priced ones held for payment or paid.
    const confirmed = sums.filter((r) => TAKEN.has(String(r.status))).reduce((n, r) => n + Number(r.units), 0)
    const stock = Number(stockRow?.stock)
    t.ok(stock >= 0, `product ${product.id}: MySQL stock ${stock} >= 0`)
    t.ok(confirmed <= product.putOnSale, `product ${product.id}: confirmed ${confirmed} <= put on sale ${product.putOnSale} (no oversell)`)
    t.equal(stock + confirmed, product.putOnSale, `product ${product.id}: MySQL stock + confirmed units == units put on sale (each order applied once)`,
      { stock, confirmed, putOnSale: product.putOnSale, byStatus: sums })
    const available = (await clients.store.snapshot(product.id)).available
    t.ok(available === null || available >= 0, `product ${product.id}: Redis available ${available} >= 0`)
  }

  // I3 per buyer: each buyer clicked once, so at most one confirmed order carries its userId; a confirmed
  // order the buyer was told "no" about would be a sale behind the buyer's back.
  const byUser = new Map(purchases.map((p) => [p.userId, p]))
  const [productRows] = await clients.mysql.query<OrderRow[]>(
    'SELECT id, product_id, user_id, quantity, status, reason FROM orders WHERE product_id IN (?)', [input.products.map((p) => p.id)])
  const confirmedPerUser = new Map<string, number>()
  let ghostsConfirmed = 0
  const soldBehindBack: OrderRow[] = []
  for (const row of productRows) {
    if (!TAKEN.has(row.status) || row.user_id === null) continue
    confirmedPerUser.set(row.user_id, (confirmedPerUser.get(row.user_id) ?? 0) + 1)
    const purchase = byUser.get(row.user_id)
    if (purchase !== undefined && purchase.orderId !== row.id) {
      ghostsConfirmed++
      if (purchase.outcome === 'refused') soldBehindBack.push(row)
    }
  }
  const doubled = [...confirmedPerUser].filter(([, n]) => n > 1)
  t.equal(doubled.length, 0, 'no buyer has two confirmed orders for one click (I3)', { found: doubled.slice(0, 5) })
  t.equal(soldBehindBack.length, 0, 'no buyer told "no" has a confirmed order', { found: soldBehindBack.slice(0, 5) })
  if (ghostsConfirmed > 0) t.comment(`${ghostsConfirmed} confirmed order(s) whose buyer gave up before seeing the 202`)

  // I5: "sold out" only when fewer units remained than asked for.
  const falseSoldOut = purchases.filter((p) => p.code === 'INSUFFICIENT_STOCK' && (p.available === undefined || p.available >= p.quantity))
  t.equal(falseSoldOut.length, 0, 'every sold-out answer reported fewer units left than asked for (I5)', { found: falseSoldOut.slice(0, 3) })

  return { finalStates, drainMs, ghostsConfirmed, failedReasons }
}

async function waitUntilSynced (productIds: number[]): Promise<void> {
  const deadline = Date.now() + 30_000
  while (true) {
    const rows = await syncStock(productIds)
    if (rows.every((r) => r.outcome !== 'busy') || Date.now() > deadline) return
    await sleep(500)
  }
}

/** One line per sale for the test log: what the buyers saw. */
export function describeSale (result: SaleResult): string {
  const outcomes: Record<string, number> = {}
  for (const p of result.purchases) outcomes[p.outcome] = (outcomes[p.outcome] ?? 0) + 1
  return `${result.purchases.length} buyers in ${result.ms} ms: ${JSON.stringify(outcomes)}; answers ${JSON.stringify(result.statusCounts)}`
}
