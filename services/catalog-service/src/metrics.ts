import { Counter, type Registry } from 'prom-client'

export interface CatalogMetrics {
  cacheReads: Counter<'result'>
  productReads: Counter<'route'>
  syncs: Counter<'outcome'>
  staleUnitsReleased: Counter
}

export function createCatalogMetrics (registry: Registry): CatalogMetrics {
  return {
    cacheReads: new Counter({ name: 'catalog_product_cache_reads_total', help: 'GET /products/:id by cache result', labelNames: ['result'] as const, registers: [registry] }),
    // What nginx's micro-cache saves: every read that reaches the catalog costs Redis/MySQL work.
    productReads: new Counter({ name: 'catalog_product_reads_total', help: 'product reads served by the catalog (each reads Redis and/or MySQL), by route', labelNames: ['route'] as const, registers: [registry] }),
    syncs: new Counter({ name: 'catalog_stock_syncs_total', help: 'products synced from MySQL to Redis, by outcome', labelNames: ['outcome'] as const, registers: [registry] }),
    staleUnitsReleased: new Counter({ name: 'catalog_stale_units_released_total', help: 'units returned to sale from stale reservations', registers: [registry] })
  }
}
