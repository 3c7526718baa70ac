import { Registry, collectDefaultMetrics, Histogram } from 'prom-client'
import type { FastifyInstance } from 'fastify'

/** One Prometheus registry per service instance; services add their own counters to it. */
export function registerMetrics (app: FastifyInstance, service: string): Registry {
  const registry = new Registry()
  registry.setDefaultLabels({ service })
  collectDefaultMetrics({ register: registry })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry]
  })
  app.addHook('onResponse', async (request, reply) => {
    duration.observe({
      method: request.method,
      route: request.routeOptions.url ?? 'unknown',
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
  return registry
}
