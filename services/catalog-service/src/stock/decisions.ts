import type { LedgerEntry, StockSnapshot, SyncOutcome } from '@flash/common'
import type { ReconcileRow, StaleReservation, SyncRow } from '../schemas.ts'

// What the catalog's stock tools conclude from what they read, as pure functions: which reservations
// are stale, whether Redis and MySQL agree, what a sync reports. reconcile.ts and sync.ts read Redis
// and MySQL and ask these; test/stock-decisions.unit.test.ts covers them with no server.

/** A reservation no processor claimed, made before `cutoff` (ms): its gateway died before publishing. */
export function isStale (entry: LedgerEntry, cutoff: number): boolean {
  return !entry.claimed && entry.reservedAt < cutoff
}

export function staleReservation (productId: number, entry: Pick<LedgerEntry, 'orderId' | 'reservedAt'>, quantity: number, now: number): StaleReservation {
  return { productId, orderId: entry.orderId, quantity, ageSeconds: Math.floor((now - entry.reservedAt) / 1000) }
}

/** One product's reconciliation: Redis agrees when what it has on sale plus what is pending is MySQL's stock. */
export function reconcileRow (productId: number, name: string, mysqlStock: number, snapshot: Pick<StockSnapshot, 'available' | 'pending'>): ReconcileRow {
  return {
    productId,
    name,
    mysqlStock,
    redisAvailable: snapshot.available,
    pending: snapshot.pending,
    agrees: snapshot.available !== null && snapshot.available + snapshot.pending === mysqlStock
  }
}

/**
 * What a sync reports for one product: the figure it set (or found already right), or, when a stock
 * change kept MySQL moving ('busy'), the figures as they are (`seen`), left for the next sync; null
 * for a product that vanished between listing and syncing (products are archived, not deleted).
 */
export function syncRow (productId: number, outcome: SyncOutcome, seen?: { mysqlStock: number, snapshot: Pick<StockSnapshot, 'available' | 'pending'> }): SyncRow | null {
  if (outcome.outcome === 'set') {
    const { mysqlStock, pending, before, after } = outcome
    return { productId, mysqlStock, pending, before, after, outcome: before === after ? 'unchanged' : 'set' }
  }
  if (outcome.outcome === 'busy' && seen !== undefined) {
    const { available, pending } = seen.snapshot
    return { productId, mysqlStock: seen.mysqlStock, pending, before: available, after: available, outcome: 'busy' }
  }
  return null
}
