import { Registry, collectDefaultMetrics, Histogram } from 'prom-client'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

type Child = Histogram.Internal<'method' | 'route' | 'status_code'>

export interface RequestMetrics {
  registry: Registry
  /** one answered request into the duration histogram (called by the platform's onResponse hook) */
  observe: (request: FastifyRequest, reply: FastifyReply) => void
}

/** One Prometheus registry per service instance; services add their own counters to it. */
export function registerMetrics (app: FastifyInstance, service: string): RequestMetrics {
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
  // One labelled child per method, route and status, found through maps keyed by the route's URL
  // string and the status number: no key string is built per request, and prom-client's own label
  // hashing per observation showed in the gateway's profile.
  const children = new Map<string, Map<string, Map<number, Child>>>()
  const observe = (request: FastifyRequest, reply: FastifyReply): void => {
    const route = request.routeOptions.url ?? 'unknown'
    const method = request.method
    const status = reply.statusCode
    let byMethod = children.get(route)
    if (byMethod === undefined) children.set(route, (byMethod = new Map()))
    let byStatus = byMethod.get(method)
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()))
    let child = byStatus.get(status)
    if (child === undefined) byStatus.set(status, (child = duration.labels({ method, route, status_code: String(status) })))
    child.observe(reply.elapsedTime / 1000)
  }
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
  return { registry, observe }
}
