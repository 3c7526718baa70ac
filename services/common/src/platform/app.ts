import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance, type FastifyBaseLogger, type RawServerDefault, type RawRequestDefaultExpression, type RawReplyDefaultExpression } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import proxyAddr from '@fastify/proxy-addr'
import type { Registry } from 'prom-client'
import { loggerOptions } from './logger.ts'
import { lazyChildLogger } from './request-logger.ts'
import { DEFAULT_TRUSTED_PROXIES } from './config.ts'
import { validatorCompiler, schemaErrorFormatter, rejectUnknownQueryParameters } from './validation.ts'
import { registerErrorHandling } from './errors.ts'
import { registerHealth, type ReadinessCheck } from './health.ts'
import { registerMetrics } from './metrics.ts'
import { trackAllowedMethods } from './methods.ts'
import { documentFor, markOptionals, type OpenApiDocument } from './openapi.ts'

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

declare module 'fastify' {
  interface FastifyInstance {
    /** the service's Prometheus registry: add counters and gauges to it */
    metrics: Registry
    /** dependency checks behind /health/ready */
    readiness: Map<string, ReadinessCheck>
  }
}

export interface PlatformOptions {
  service: string
  version?: string
  description: string
  logLevel: string
  /** largest accepted request body in bytes */
  bodyLimit?: number
  /**
   * The path prefix nginx serves this service's API under (`/api`); undefined when nginx routes none
   * of it. The OpenAPI document names it only when fetched through nginx (platform/openapi.ts).
   */
  docsServerUrl?: string
  /**
   * Proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES): by default nginx on loopback
   * (`make local`) or on the Compose network. A client elsewhere cannot pick its address with the header.
   */
  trustedProxies?: string
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/
const MAX_PARAM_LENGTH = 200

// A request id made here: a random prefix per process and a counter, unique across replicas and
// restarts, and far cheaper than a UUID per request on the hot path.
const processPrefix = randomUUID().slice(0, 8)
let requestCounter = 0
const newRequestId = (): string => `${processPrefix}-${(++requestCounter).toString(36)}`

const REMEMBERED_ADDRESSES = 10_000

/**
 * Whether an address is a trusted proxy, remembered per address. Fastify asks for every read of
 * request.ip (the gateway's rate limit keys on it, per order), and proxy-addr parses the address with
 * ipaddr.js and matches every range on each call. A buyer's forwarded address is asked too, so the
 * memory is bounded: past REMEMBERED_ADDRESSES it starts again.
 */
export function rememberedTrust (list: string[]): (address: string, hop: number) => boolean {
  const trusted = proxyAddr.compile(list)
  const known = new Map<string, boolean>()
  return (address, hop) => {
    let answer = known.get(address)
    if (answer === undefined) {
      if (known.size >= REMEMBERED_ADDRESSES) known.clear()
      answer = trusted(address, hop)
      known.set(address, answer)
    }
    return answer
  }
}

/**
 * A Fastify instance with what every service shares: request ids (taken from `x-request-id` when sane,
 * echoed back), strict validation, the error shape of docs/ARCHITECTURE.md §5, health, metrics, OpenAPI at /docs.
 * Routes are registered by the service's own buildApp.
 */
export async function createPlatformApp (options: PlatformOptions): Promise<App> {
  const app = Fastify({
    logger: loggerOptions(options.service, options.logLevel),
    bodyLimit: options.bodyLimit ?? 16 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : newRequestId()
    },
    // Request logging is ours (onResponse below): one line at debug, errors at error level.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    trustProxy: rememberedTrust((options.trustedProxies ?? DEFAULT_TRUSTED_PROXIES).split(',').map((entry) => entry.trim())),
    return503OnClosing: true,
    schemaErrorFormatter,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH }
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  // The APIs speak JSON only: a text/plain body is answered 415, not parsed into a string.
  app.removeContentTypeParser('text/plain')
  registerErrorHandling(app, trackAllowedMethods(app, { maxParamLength: MAX_PARAM_LENGTH }))
  rejectUnknownQueryParameters(app)

  // Callback hooks, not async ones: no promise per request on the hot path; and one onResponse hook
  // for the request line and the duration histogram, not one each (every hook is a step per request).
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id)
    done()
  })
  const metrics = registerMetrics(app, options.service)
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode
    // A 503 is logged where it is decided (a dependency down is a warning there; load shedding is
    // counted in the metrics): a line per shed request would add work exactly when there is too much.
    if (status >= 500 && status !== 503) request.log.error({ method: request.method, url: request.url, statusCode: status }, 'request failed')
    else if (request.log.level === 'debug' || request.log.level === 'trace') request.log.debug({ method: request.method, url: request.url, statusCode: status, ms: reply.elapsedTime }, 'request completed')
    metrics.observe(request, reply)
    done()
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.service, description: options.description, version: options.version ?? '1.0.0' },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
          // buyer sessions: the same HS256 access token, from a header or the browser's cookie
          buyerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'access token from POST /auth/login' },
          buyerCookie: { type: 'apiKey', in: 'cookie', name: 'fs_access', description: 'httpOnly access cookie set by /auth/login' },
          refreshCookie: { type: 'apiKey', in: 'cookie', name: 'fs_refresh', description: 'httpOnly refresh cookie (path /api/auth)' },
          orderReceipt: { type: 'apiKey', in: 'header', name: 'X-Order-Receipt', description: 'the receipt a guest order\'s 202 carried' }
        }
      }
    },
    transformObject: (document) => markOptionals(('openapiObject' in document ? document.openapiObject : document.swaggerObject) as OpenApiDocument)
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    transformSpecification: (document, request) => documentFor(document as OpenApiDocument, request, options.docsServerUrl)
  })

  const readiness = new Map<string, ReadinessCheck>()
  app.decorate('readiness', readiness)
  app.decorate('metrics', metrics.registry)
  registerHealth(app, readiness)
  return app
}
