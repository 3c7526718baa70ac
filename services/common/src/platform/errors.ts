import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, ErrorCode, errorBody } from '../contracts/errors.ts'
import { isTransientError } from '../clients/transient.ts'
import type { AllowedMethods } from './methods.ts'

// Fastify's own error codes mapped to this project's stable codes, so a client never has to know
// which framework answered.
const frameworkCodes: Record<string, { statusCode: number, code: ErrorCode }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { statusCode: 400, code: ErrorCode.INVALID_JSON },
  FST_ERR_CTP_EMPTY_JSON_BODY: { statusCode: 400, code: ErrorCode.INVALID_JSON },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { statusCode: 400, code: ErrorCode.INVALID_JSON },
  FST_ERR_CTP_BODY_TOO_LARGE: { statusCode: 413, code: ErrorCode.BODY_TOO_LARGE },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { statusCode: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE },
  FST_ERR_CTP_INVALID_TYPE: { statusCode: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE }
}

export function registerErrorHandling (app: FastifyInstance, allowed: AllowedMethods): void {
  // No route matched: 404, or 405 and the methods it does serve when the path is known with other
  // methods (RFC 9110 §15.5.6).
  const noRoute = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const methods = allowed.for(request)
    if (methods.length === 0) return reply.code(404).send(errorBody(404, ErrorCode.NOT_FOUND, `Route ${request.method}:${request.url} not found`))
    return reply.code(405).header('allow', methods.join(', '))
      .send(errorBody(405, ErrorCode.METHOD_NOT_ALLOWED, `${request.method} is not allowed on this path; allowed: ${methods.join(', ')}`))
  }

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    // Fastify checks a body-bearing method's Content-Type (QUERY, …) before the not-found handler
    // runs: a request no route matches is answered 404/405 whatever else is wrong with it.
    if (request.is404) return noRoute(request, reply)
    if (error instanceof AppError) {
      if (error.headers) void reply.headers(error.headers)
      return reply.code(error.statusCode).send(errorBody(error.statusCode, error.code, error.message, error.details))
    }
    if (error.validation) {
      return reply.code(400).send(errorBody(400, ErrorCode.VALIDATION_FAILED, error.message))
    }
    const mapped = error.code ? frameworkCodes[error.code] : undefined
    if (mapped) return reply.code(mapped.statusCode).send(errorBody(mapped.statusCode, mapped.code, error.message))
    if (error instanceof SyntaxError) return reply.code(400).send(errorBody(400, ErrorCode.INVALID_JSON, error.message))
    // A dependency that is down or failing over is a 503 the client may retry, not a 500.
    if (isTransientError(error)) {
      request.log.warn({ err: error }, 'dependency unavailable')
      void reply.header('retry-after', '1')
      return reply.code(503).send(errorBody(503, ErrorCode.SERVICE_UNAVAILABLE, 'a dependency is unavailable right now; retry shortly'))
    }
    const status = error.statusCode ?? 500
    if (status === 429) return reply.code(429).send(errorBody(429, ErrorCode.RATE_LIMITED, error.message))
    if (status >= 400 && status < 500) {
      return reply.code(status).send(errorBody(status, error.code ?? 'BAD_REQUEST', error.message))
    }
    request.log.error({ err: error }, 'request failed')
    const code = status === 503 ? ErrorCode.SERVICE_UNAVAILABLE : ErrorCode.INTERNAL_ERROR
    return reply.code(status).send(errorBody(status, code, status === 503 ? 'service unavailable' : 'internal error'))
  })

  app.setNotFoundHandler(noRoute)
}
