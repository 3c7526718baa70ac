import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorCode, ErrorResponse, errorBody } from '@flash/common'
import { SalesQuery, SalesSummary } from '../schemas.ts'
import type { OrderRepository } from '../orders/repository.ts'

// Units per product and order state: the admin product table's sold, held, paid and expired columns.
export const salesRoutes: FastifyPluginAsyncTypebox<{ orders: OrderRepository }> = async (app, { orders }) => {
  app.get('/orders/sales', {
    schema: {
      tags: ['orders'],
      summary: 'Units sold, held for payment, paid and expired, per product',
      querystring: SalesQuery,
      response: { 200: SalesSummary, 400: ErrorResponse }
    }
  }, async (request) => {
    const units = await orders.unitsByState(request.query.productId)
    return { items: [...units].map(([productId, counts]) => ({ productId, ...counts })) }
  })

  // /orders/sales has the shape of /orders/{id}: without this, DELETE /orders/sales would be the
  // withdrawal of an order called "sales" (400 naming params/id) instead of 405. Not a served method:
  // the platform's Allow lists leave it out (config.methodNotAllowed).
  app.route({
    method: 'DELETE',
    url: '/orders/sales',
    config: { methodNotAllowed: true },
    schema: { hide: true },
    handler: async (_request, reply) => reply.code(405).header('allow', 'GET, HEAD')
      .send(errorBody(405, ErrorCode.METHOD_NOT_ALLOWED, 'DELETE is not allowed on this path; allowed: GET, HEAD'))
  })
}
