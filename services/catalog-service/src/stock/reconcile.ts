import type { FastifyBaseLogger } from 'fastify'
import type { ProductRepository } from '../products/repository.ts'
import type { CatalogStock } from '../products/stock.ts'
import type { ReconcileRow, StaleReservation } from '../schemas.ts'
import { isStale, reconcileRow, staleReservation } from './decisions.ts'

// Reconciliation (read only) and the release of stale reservations: units a gateway reserved but never
// published (it died in between). Such a reservation stays 'r' in the ledger forever; releasing it
// returns its units and leaves a tombstone, so the order fails if it ever reaches the processor.

const PARALLEL = 16

async function eachProduct<T> (ids: number[], work: (id: number) => Promise<T>): Promise<T[]> {
  const results: T[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < ids.length) results.push(await work(ids[next++] as number))
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker))
  return results
}

export interface ReconcileDeps { repository: ProductRepository, stock: CatalogStock }

export async function reconcile (deps: ReconcileDeps, staleAfterSeconds: number, now = Date.now()): Promise<{ products: ReconcileRow[], staleReservations: StaleReservation[] }> {
  const { repository, stock } = deps
  const products = await repository.stockFigures()
  const names = new Map(products.map((p) => [p.id, p.name]))
  const cutoff = now - staleAfterSeconds * 1000
  const staleReservations: StaleReservation[] = []
  const rows = await eachProduct(products.map((p) => p.id), async (id): Promise<ReconcileRow> => {
    const { mysql, snapshot } = await stock.consistentView(id, () => repository.stockOf(id))
    for (const entry of snapshot.ledger) {
      if (isStale(entry, cutoff)) staleReservations.push(staleReservation(id, entry, entry.quantity, now))
    }
    return reconcileRow(id, names.get(id) ?? '', mysql?.stock ?? 0, snapshot)
  })
  rows.sort((a, b) => a.productId - b.productId)
  staleReservations.sort((a, b) => b.ageSeconds - a.ageSeconds)
  return { products: rows, staleReservations }
}

/** Releases every unclaimed reservation made before `cutoff` (ms); reports those released. */
export async function releaseStaleReservations (deps: ReconcileDeps, cutoff: number, productIds?: number[], now = Date.now()): Promise<StaleReservation[]> {
  const { repository, stock } = deps
  const ids = await repository.ids(productIds)
  const released: StaleReservation[] = []
  await eachProduct(ids, async (id) => {
    const snapshot = await stock.snapshot(id)
    for (const entry of snapshot.ledger) {
      if (!isStale(entry, cutoff)) continue
      // The script checks age and claim again, atomically: a processor may have claimed it since.
      const units = await stock.store.releaseStale(id, entry.orderId, cutoff)
      if (units > 0) released.push(staleReservation(id, entry, units, now))
    }
  })
  return released
}

/**
 * Runs the release every `everySeconds` (0: never), so units of a dead gateway's reservations come
 * back without an operator (I4). The timer does not keep the process alive.
 */
export function startStaleSweeper (deps: ReconcileDeps & { log: FastifyBaseLogger, staleSeconds: number, everySeconds: number, onReleased?: (units: number) => void }): { stop: () => Promise<void> } {
  if (deps.everySeconds === 0) {
    deps.log.info('stale reservations are not swept by this instance (STALE_SWEEP_SECONDS=0)')
    return { stop: async () => {} }
  }
  let running: Promise<void> | null = null
  const timer = setInterval(() => {
    if (running !== null) return
    const cutoff = Date.now() - deps.staleSeconds * 1000
    running = releaseStaleReservations(deps, cutoff)
      .then((released) => {
        if (released.length > 0) {
          deps.onReleased?.(released.reduce((sum, r) => sum + r.quantity, 0))
          deps.log.warn({ released }, 'released stale reservations')
        } else {
          deps.log.debug('no stale reservations')
        }
      })
      .catch((error: unknown) => deps.log.error({ err: error }, 'stale reservation sweep failed'))
      .finally(() => { running = null })
  }, deps.everySeconds * 1000)
  timer.unref()
  return {
    // Waits for a sweep in progress, so the clients it uses are not closed under it.
    stop: async () => {
      clearInterval(timer)
      await running
    }
  }
}
