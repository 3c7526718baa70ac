import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { onRequestAsyncHookHandler } from 'fastify'
import { adminSecurity, ErrorResponse } from '@flash/common'
import type { Catalog } from '../products/catalog.ts'
import type { CatalogMetrics } from '../metrics.ts'
import { NewProduct, Product, ProductChanges, ProductPage, ProductParams, ProductQuery, Restock } from '../schemas.ts'

export interface ProductRouteOptions {
  catalog: Catalog
  /** checks the admin token; runs onRequest, so an anonymous caller learns nothing from validation */
  admin: onRequestAsyncHookHandler
  metrics: CatalogMetrics
}

const errors = { '4xx': ErrorResponse, '5xx': ErrorResponse }

export const productRoutes: FastifyPluginAsyncTypebox<ProductRouteOptions> = async (app, { catalog, admin, metrics }) => {
  app.post('/products', {
    onRequest: admin,
    schema: {
      tags: ['products'],
      summary: 'Create a product and put its stock on sale',
      security: adminSecurity,
      body: NewProduct,
      response: { 201: Product, ...errors }
    }
  }, async (request, reply) => reply.code(201).send(await catalog.create(request.body)))

  app.get('/products', {
    schema: {
      tags: ['products'],
      summary: 'Active products, newest first, with live available stock',
      querystring: ProductQuery,
      response: { 200: ProductPage, ...errors }
    }
  }, async (request) => catalog.list(request.query))

  app.get('/products/:id', {
    schema: {
      tags: ['products'],
      summary: 'One product (archived ones too); x-cache tells whether its details came from the cache',
      params: ProductParams,
      response: { 200: Product, ...errors }
    }
  }, async (request, reply) => {
    const { product, cacheHit } = await catalog.read(request.params.id)
    metrics.cacheReads.inc({ result: cacheHit ? 'hit' : 'miss' })
    return reply.header('x-cache', cacheHit ? 'hit' : 'miss').send(product)
  })

  app.patch('/products/:id', {
    onRequest: admin,
    schema: {
      tags: ['products'],
      summary: 'Change name, price, image or per-user limit (409 for an archived product)',
      security: adminSecurity,
      params: ProductParams,
      body: ProductChanges,
      response: { 200: Product, ...errors }
    }
  }, async (request) => catalog.update(request.params.id, request.body))

  app.post('/products/:id/restock', {
    onRequest: admin,
    schema: {
      tags: ['products'],
      summary: 'Add units to MySQL and, during a sale, to Redis (409 for an archived product)',
      security: adminSecurity,
      params: ProductParams,
      body: Restock,
      response: { 200: Product, ...errors }
    }
  }, async (request) => catalog.restock(request.params.id, request.body.quantity))

  app.delete('/products/:id', {
    onRequest: admin,
    schema: {
      tags: ['products'],
      summary: 'Archive: the product leaves the shop and takes no new orders; its order history stays. Idempotent: archiving again changes nothing',
      security: adminSecurity,
      params: ProductParams,
      response: { 200: Product, ...errors }
    }
  }, async (request) => catalog.archive(request.params.id))
}
