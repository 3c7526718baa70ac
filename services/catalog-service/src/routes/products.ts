import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import etag from '@fastify/etag'
import type { FastifyReply, onRequestAsyncHookHandler } from 'fastify'
import { adminSecurity, ErrorResponse, type OperatorAuth } from '@flash/common'
import { actorOf } from '../audit/audit-log.ts'
import type { Catalog } from '../products/catalog.ts'
import type { CatalogMetrics } from '../metrics.ts'
import { AdminProductQuery, CreateHeaders, NewProduct, Product, ProductChanges, ProductPage, ProductParams, ProductQuery, Restock } from '../schemas.ts'

export interface ProductRouteOptions {
  catalog: Catalog
  /** checks the operator (role admin for writes); runs onRequest, so an anonymous caller learns nothing from validation */
  operators: OperatorAuth
  metrics: CatalogMetrics
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse }

/**
 * Product reads are what a crowd of waiting browsers polls. They may be one second stale (nginx
 * micro-caches them for that long), carry an ETag (a repeated poll costs a 304 and no
 * body), and the server's clock in ms, which the shop uses to count down to a sale's start.
 */
const READ_MAX_AGE_SECONDS = 1
function readHeaders (reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', `public, max-age=${READ_MAX_AGE_SECONDS}`)
    .header('x-server-time', String(Date.now()))
}

export const productRoutes: FastifyPluginAsyncTypebox<ProductRouteOptions> = async (app, { catalog, operators, metrics }) => {
  const write = operators.require('write') as onRequestAsyncHookHandler
  const read = operators.require('read') as onRequestAsyncHookHandler

  app.post('/products', {
    onRequest: write,
    config: { audit: 'product.create' },
    schema: {
      tags: ['products'],
      summary: 'Create a product and put its stock on sale',
      security: adminSecurity,
      headers: CreateHeaders,
      body: NewProduct,
      response: { 201: Product, ...errors }
    }
  }, async (request, reply) => {
    const action = request.headers['x-admin-context'] === 'simulator' ? 'simulator.run' : 'product.create'
    return reply.code(201).send(await catalog.create(request.body, actorOf(request), action))
  })

  app.get('/admin/products', {
    onRequest: read,
    schema: {
      tags: ['products'],
      summary: 'Admin: products of any status (archived ones too), found by id or name, newest first',
      security: adminSecurity,
      querystring: AdminProductQuery,
      response: { 200: ProductPage, ...errors }
    }
  }, async (request) => catalog.listForAdmin(request.query))

  // The reads, in their own scope: only they get ETags (and 304 for a matching If-None-Match).
  const readRoutes: FastifyPluginAsyncTypebox = async (reads) => {
    await reads.register(etag, { weak: true })

    reads.get('/products', {
      schema: {
        tags: ['products'],
        summary: 'Active products with live available stock: newest first, or on-sale and upcoming first',
        description: 'Cache-Control: max-age=1 and an ETag (If-None-Match answers 304); X-Server-Time is the server clock in ms.',
        querystring: ProductQuery,
        response: { 200: ProductPage, ...errors }
      }
    }, async (request, reply) => {
      metrics.productReads.inc({ route: 'list' })
      return readHeaders(reply).send(await catalog.list(request.query))
    })

    reads.get('/products/:id', {
      schema: {
        tags: ['products'],
        summary: 'One product (archived ones too); x-cache tells whether its details came from the cache',
        description: 'Cache-Control: max-age=1 and an ETag (If-None-Match answers 304); X-Server-Time is the server clock in ms.',
        params: ProductParams,
        response: { 200: Product, ...errors }
      }
    }, async (request, reply) => {
      metrics.productReads.inc({ route: 'one' })
      const { product, cacheHit } = await catalog.read(request.params.id)
      metrics.cacheReads.inc({ result: cacheHit ? 'hit' : 'miss' })
      return readHeaders(reply).header('x-cache', cacheHit ? 'hit' : 'miss').send(product)
    })
  }
  await app.register(readRoutes)

  app.patch('/products/:id', {
    onRequest: write,
    config: { audit: 'product.update' },
    schema: {
      tags: ['products'],
      summary: 'Change name, price, image, per-user limit or sale window (moving a window during a sale is safe; 409 for an archived product)',
      security: adminSecurity,
      params: ProductParams,
      body: ProductChanges,
      response: { 200: Product, ...errors }
    }
  }, async (request) => catalog.update(request.params.id, request.body, actorOf(request)))

  app.post('/products/:id/restock', {
    onRequest: write,
    config: { audit: 'product.restock' },
    schema: {
      tags: ['products'],
      summary: 'Add units to MySQL and, during a sale, to Redis (409 for an archived product)',
      security: adminSecurity,
      params: ProductParams,
      body: Restock,
      response: { 200: Product, ...errors }
    }
  }, async (request) => catalog.restock(request.params.id, request.body.quantity, actorOf(request)))

  app.delete('/products/:id', {
    onRequest: write,
    config: { audit: 'product.archive' },
    schema: {
      tags: ['products'],
      summary: 'Archive: the product leaves the shop and takes no new orders; its order history stays. Idempotent: archiving again changes nothing',
      security: adminSecurity,
      params: ProductParams,
      response: { 200: Product, ...errors }
    }
  }, async (request) => catalog.archive(request.params.id, actorOf(request)))
}
