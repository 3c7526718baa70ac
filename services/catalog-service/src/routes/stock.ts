import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { onRequestAsyncHookHandler } from 'fastify'
import { adminSecurity, ErrorResponse } from '@flash/common'
import type { ProductRepository } from '../products/repository.ts'
import type { CatalogStock } from '../products/stock.ts'
import type { CatalogMetrics } from '../metrics.ts'
import { syncStock } from '../stock/sync.ts'
import { reconcile, releaseStaleReservations } from '../stock/reconcile.ts'
import { ReconcileQuery, ReconcileReport, ReleaseStaleReport, ReleaseStaleRequest, SyncReport, SyncRequest } from '../schemas.ts'

export interface StockRouteOptions {
  repository: ProductRepository
  stock: CatalogStock
  admin: onRequestAsyncHookHandler
  metrics: CatalogMetrics
  staleReservationSeconds: number
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse }

export const stockRoutes: FastifyPluginAsyncTypebox<StockRouteOptions> = async (app, options) => {
  const { repository, stock, admin, metrics } = options

  app.post('/admin/stock/sync', {
    onRequest: admin,
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
    return { products }
  })

  app.get('/admin/stock/reconcile', {
    onRequest: admin,
    schema: {
      tags: ['stock'],
      summary: 'MySQL stock, Redis available and pending units per product, and stale reservations',
      security: adminSecurity,
      querystring: ReconcileQuery,
      response: { 200: ReconcileReport, ...errors }
    }
  }, async (request) => reconcile({ repository, stock }, request.query.staleAfterSeconds ?? options.staleReservationSeconds))

  app.post('/admin/stock/release-stale', {
    onRequest: admin,
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
    metrics.staleUnitsReleased.inc(released.reduce((sum, r) => sum + r.quantity, 0))
    return { cutoff: new Date(cutoff).toISOString(), released }
  })
}
