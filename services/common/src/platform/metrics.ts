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
  // One labelled child per method, route and status, looked up by a plain string key: prom-client's
  // own label hashing per observation showed in the gateway's profile.
  const children = new Map<string, Histogram.Internal<'method' | 'route' | 'status_code'>>()
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown'
    const key = `${request.method} ${route} ${reply.statusCode}`
    let child = children.get(key)
    if (child === undefined) {
      child = duration.labels({ method: request.method, route, status_code: String(reply.statusCode) })
      children.set(key, child)
    }
    child.observe(reply.elapsedTime / 1000)
    done()
  })
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
  return registry
}
