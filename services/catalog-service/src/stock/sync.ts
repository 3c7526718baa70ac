import { AppError, ErrorCode } from '@flash/common'
import type { ProductRepository } from '../products/repository.ts'
import type { CatalogStock } from '../products/stock.ts'
import type { SyncRow } from '../schemas.ts'
import { syncRow } from './decisions.ts'

// Stock sync, shared by POST /admin/stock/sync and `npm run sync:stock`. Safe during a sale: each
// product's Redis figure becomes MySQL stock − the ledger's pending units, computed by sync.lua only
// when no stock change moved MySQL while we read it (otherwise it retries, and finally says 'busy').

const PARALLEL = 16

export async function syncStock (deps: { repository: ProductRepository, stock: CatalogStock }, productIds?: number[]): Promise<SyncRow[]> {
  const { repository, stock } = deps
  const ids = await repository.ids(productIds)
  if (productIds !== undefined && ids.length !== productIds.length) {
    const unknown = productIds.filter((id) => !ids.includes(id))
    throw new AppError(404, ErrorCode.PRODUCT_NOT_FOUND, `unknown product ids: ${unknown.join(', ')}`, { details: { productIds: unknown } })
  }
  const rows: SyncRow[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++] as number
      const outcome = await stock.putOnSale(id, () => repository.stockOf(id))
      // A busy product is left as it was: report what we can see; the next sync retries.
      const seen = outcome.outcome === 'busy'
        ? await Promise.all([repository.stockOf(id), stock.snapshot(id)]).then(([mysql, snapshot]) => ({ mysqlStock: mysql?.stock ?? 0, snapshot }))
        : undefined
      const row = syncRow(id, outcome, seen)
      if (row !== null) rows.push(row)
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker))
  return rows.sort((a, b) => a.productId - b.productId)
}
