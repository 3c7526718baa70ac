import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse } from '@flash/common'
import { SalesQuery, SalesSummary } from '../schemas.ts'
import type { OrderRepository } from '../orders/repository.ts'

// Issue 14: units sold per product (confirmed orders), the admin product table's "sold" column.
export const salesRoutes: FastifyPluginAsyncTypebox<{ orders: OrderRepository }> = async (app, { orders }) => {
  app.get('/orders/sales', {
    schema: {
      tags: ['orders'],
      summary: 'Units sold (confirmed orders) per product',
      querystring: SalesQuery,
      response: { 200: SalesSummary, 400: ErrorResponse }
    }
  }, async (request) => {
    const sold = await orders.unitsSold(request.query.productId)
    return { items: [...sold].map(([productId, unitsSold]) => ({ productId, unitsSold })) }
  })
}
