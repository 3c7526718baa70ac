import type { FastifyRequest } from 'fastify'

// The OpenAPI document at /docs/json describes the service as the caller reaches it (docs/ARCHITECTURE.md §5):
//   - fetched directly (http://host:3001/docs/json): no `servers` entry, every route, paths from `/`;
//   - fetched through nginx (/docs/<service>/json): nginx marks the request with X-Forwarded-Prefix
//     (deploy/nginx/nginx.conf.template), and the document then names the API prefix nginx serves the
//     routes under (`/api`) and leaves out what nginx does not route (the health checks).

/** Paths the platform registers for orchestrators; nginx does not route them under /api. */
const OPERATIONAL_PATHS = ['/health/']

type Json = Record<string, unknown>

/** The generated document's subset this module reads and changes. */
export interface OpenApiDocument {
  servers?: Array<{ url: string, description?: string }>
  paths?: Record<string, Record<string, Json>>
  [key: string]: unknown
}

/** Fetched through the reverse proxy: nginx sets X-Forwarded-Prefix on the docs routes only. */
export function viaProxy (request: FastifyRequest): boolean {
  const prefix = request.headers['x-forwarded-prefix']
  return typeof prefix === 'string' && prefix !== ''
}

/**
 * The per-request view of the document (the copy swagger-ui hands us is already a clone).
 * `apiPrefix` is where nginx routes this service's API; undefined when nginx routes none of it.
 */
export function documentFor (document: OpenApiDocument, request: FastifyRequest, apiPrefix: string | undefined): OpenApiDocument {
  if (!viaProxy(request)) return { ...document, servers: [] }
  if (apiPrefix === undefined) return { ...document, servers: [], paths: {} }
  const routed = Object.entries(document.paths ?? {}).filter(([path]) => !OPERATIONAL_PATHS.some((p) => path.startsWith(p)))
  return { ...document, servers: [{ url: apiPrefix, description: 'through nginx' }], paths: Object.fromEntries(routed) }
}

/**
 * What the servers accept but @fastify/swagger marks required:
 *   - a query parameter with a `default` (the server fills it in: `page`, `pageSize`);
 *   - a body whose schema also allows `null`, this project's "optional body": Fastify validates an
 *     absent body as null, so no body, `null` and the object form are all accepted.
 */
export function markOptionals (document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const parameter of (operation.parameters ?? []) as Array<{ in?: string, required?: boolean, schema?: Json }>) {
        if (parameter.in === 'query' && parameter.schema?.default !== undefined) parameter.required = false
      }
      const body = operation.requestBody as { required?: boolean, content?: Record<string, { schema?: Json }> } | undefined
      const allowsNull = (schema: Json | undefined): boolean => (schema?.anyOf as Json[] | undefined)?.some((v) => v.type === 'null') === true
      if (body !== undefined && Object.values(body.content ?? {}).some((media) => allowsNull(media.schema))) body.required = false
    }
  }
  return document
}
