import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { onRequestAsyncHookHandler } from 'fastify'
import { adminSecurity, ErrorResponse, serviceUnavailable } from '@flash/common'
import { LiveHistory, LivePoint, LiveQuery } from '../schemas.ts'
import { MAX_LIVE_STREAMS, type LiveFeed } from '../live/feed.ts'

export interface LiveRouteOptions {
  feed: LiveFeed
  admin: onRequestAsyncHookHandler
}

// The operator's live sale view (docs/ARCHITECTURE.md §11): server-sent events over a response that
// stays open. A fetch() reads it (EventSource cannot send the admin's Authorization header).
export const liveRoutes: FastifyPluginAsyncTypebox<LiveRouteOptions> = async (app, { feed, admin }) => {
  app.get('/admin/live', {
    onRequest: admin,
    schema: {
      tags: ['live'],
      summary: 'The live sale view of some products: a server-sent event stream, one point per product and second',
      description: 'text/event-stream. On open: `history` ({points}: up to the last 120 s the server holds). Then every second, per product, ' +
        '`point` (the data: one LivePoint) for the second that just ended, or `gap` ({at}) when Redis or MySQL did not answer. ' +
        `The stream ends after 10 minutes (reconnect). At most ${MAX_LIVE_STREAMS} streams per catalog process: 503 with Retry-After past that.`,
      security: adminSecurity,
      querystring: LiveQuery,
      response: {
        200: {
          description: 'the event stream',
          content: { 'text/event-stream': { schema: { oneOf: [LiveHistory, LivePoint] } } }
        },
        '4xx': ErrorResponse,
        503: ErrorResponse
      }
    }
  }, async (request, reply) => {
    if (feed.streams >= MAX_LIVE_STREAMS) throw serviceUnavailable(`${MAX_LIVE_STREAMS} live views are open on this server; retry`)
    reply.hijack()
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx passes each event on as it comes (deploy/nginx turns buffering off for this path too)
      'x-accel-buffering': 'no',
      'x-request-id': request.id
    })
    if (!feed.open(request.query.productId, reply.raw)) reply.raw.end()
  })
}
