import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { onRequestAsyncHookHandler } from 'fastify'
import { adminSecurity, ErrorResponse, type OperatorAuth } from '@flash/common'
import { actorOf, type AuditLog } from '../audit/audit-log.ts'
import type { ProductRepository } from '../products/repository.ts'
import type { CatalogStock } from '../products/stock.ts'
import type { CatalogMetrics } from '../metrics.ts'
import { syncStock } from '../stock/sync.ts'
import { reconcile, releaseStaleReservations } from '../stock/reconcile.ts'
import { ReconcileQuery, ReconcileReport, ReleaseStaleReport, ReleaseStaleRequest, SyncReport, SyncRequest } from '../schemas.ts'

export interface StockRouteOptions {
  repository: ProductRepository
  stock: CatalogStock
  operators: OperatorAuth
  audit: AuditLog
  metrics: CatalogMetrics
  staleReservationSeconds: number
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse }

export const stockRoutes: FastifyPluginAsyncTypebox<StockRouteOptions> = async (app, options) => {
  const { repository, stock, audit, metrics } = options
  const write = options.operators.require('write') as onRequestAsyncHookHandler
  const read = options.operators.require('read') as onRequestAsyncHookHandler

  app.post('/admin/stock/sync', {
    onRequest: write,
    config: { audit: 'stock.sync' },
    schema: {
      tags: ['stock'],
      summary: 'Put MySQL stock on sale in Redis and correct drift: available = MySQL stock − pending reservations',
      security: adminSecurity,
      body: SyncRequest,
      response: { 200: SyncReport, ...errors }
    }
  }, async (request) => {
    const products = await syncStock({ repository, stock }, request.body?.productIds)
    for (const row of products) metrics.syncs.inc({ outcome: row.outcome })
    // Sync writes Redis only: the entry follows the change.
    await audit.record(actorOf(request), { action: 'stock.sync', detail: summary(products.map((row) => row.outcome)) }, 'ok')
    return { products }
  })

  app.get('/admin/stock/reconcile', {
    onRequest: read,
    schema: {
      tags: ['stock'],
      summary: 'MySQL stock, Redis available and pending units per product, and stale reservations',
      security: adminSecurity,
      querystring: ReconcileQuery,
      response: { 200: ReconcileReport, ...errors }
    }
  }, async (request) => reconcile({ repository, stock }, request.query.staleAfterSeconds ?? options.staleReservationSeconds))

  app.post('/admin/stock/release-stale', {
    onRequest: write,
    config: { audit: 'stock.release-stale' },
    schema: {
      tags: ['stock'],
      summary: 'Release reservations never published (older than STALE_RESERVATION_SECONDS), returning their units',
      security: adminSecurity,
      body: ReleaseStaleRequest,
      response: { 200: ReleaseStaleReport, ...errors }
    }
  }, async (request) => {
    const now = Date.now()
    const cutoff = now - options.staleReservationSeconds * 1000
    const released = await releaseStaleReservations({ repository, stock }, cutoff, request.body?.productIds, now)
    const units = released.reduce((sum, r) => sum + r.quantity, 0)
    metrics.staleUnitsReleased.inc(units)
    await audit.record(actorOf(request), { action: 'stock.release-stale', detail: JSON.stringify({ reservations: released.length, units }) }, 'ok')
    return { cutoff: new Date(cutoff).toISOString(), released }
  })
}

/** `{"set":12,"retry":1}`: how many products each outcome had */
function summary (outcomes: string[]): string {
  const counts: Record<string, number> = {}
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1
  return JSON.stringify(counts)
}
