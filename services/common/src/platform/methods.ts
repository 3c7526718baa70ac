import FindMyWay, { type HTTPMethod } from 'find-my-way'
import type { FastifyInstance, FastifyRequest } from 'fastify'

// HTTP says a known path asked with a method it does not serve is `405 Method Not Allowed` with an
// `Allow` header listing the methods it does serve; Fastify answers every unmatched request 404.
// Fastify does not expose its router for a lookup by concrete URL, so every route is also added to a
// second find-my-way router (the one Fastify itself uses) with the same matching options; the 404
// handler asks it which methods match the URL.

export interface AllowedMethods {
  /** the methods served on this request's path, sorted; empty when the path is unknown */
  for (request: FastifyRequest): string[]
}

export function trackAllowedMethods (app: FastifyInstance, options: { maxParamLength: number }): AllowedMethods {
  const router = FindMyWay({ maxParamLength: options.maxParamLength })
  const methods = new Set<HTTPMethod>()
  const noop = (): void => {}
  app.addHook('onRoute', (route) => {
    // A route that only answers 405 (a path shaped like another route's) serves no method.
    if ((route.config as { methodNotAllowed?: boolean } | undefined)?.methodNotAllowed === true) return
    for (const method of [route.method].flat() as HTTPMethod[]) {
      // Two plugins may register the same path and method under different constraints; one entry is enough.
      if (router.hasRoute(method, route.url)) continue
      router.on(method, route.url, noop, { url: route.url })
      methods.add(method)
    }
  })
  return {
    for (request) {
      const path = request.url.split('?')[0] ?? '/'
      const found: Array<{ method: HTTPMethod, url: string, params: number }> = []
      for (const method of methods) {
        const match = router.find(method, path)
        if (match !== null) found.push({ method, url: (match.store as { url: string }).url, params: Object.keys(match.params).length })
      }
      // A static route owns its path: /orders/sales lists GET only, though DELETE /orders/:id would match it.
      const exact = found.find((f) => f.params === 0)?.url
      return found.filter((f) => exact === undefined || f.url === exact).map((f) => f.method).sort()
    }
  }
}
