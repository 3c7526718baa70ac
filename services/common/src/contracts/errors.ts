import type { ErrorResponse } from './schemas.ts'

// Stable error codes, defined once; every service answers errors in Fastify's shape:
// {"statusCode":409,"code":"INSUFFICIENT_STOCK","error":"Conflict","message":"…"}

export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  INVALID_JSON: 'INVALID_JSON',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  PRODUCT_NOT_FOUND: 'PRODUCT_NOT_FOUND',
  PRODUCT_ARCHIVED: 'PRODUCT_ARCHIVED',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  INSUFFICIENT_STOCK: 'INSUFFICIENT_STOCK',
  /** the product's sale window has not opened yet (details: saleStartsAt) */
  SALE_NOT_STARTED: 'SALE_NOT_STARTED',
  /** the product's sale window has closed (details: saleEndsAt) */
  SALE_ENDED: 'SALE_ENDED',
  PER_USER_LIMIT: 'PER_USER_LIMIT',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  ORDER_NOT_CANCELLABLE: 'ORDER_NOT_CANCELLABLE',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  // buyers and sessions
  /** no valid session: the access token is missing where one is needed, malformed, forged or expired */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** a guest may not do this (a product with a per-user limit, listing orders): sign in first */
  SIGN_IN_REQUIRED: 'SIGN_IN_REQUIRED',
  /** one answer for a wrong password and an unknown username alike (no enumeration) */
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  USERNAME_TAKEN: 'USERNAME_TAKEN',
  // payments
  /** the order is not awaiting payment (paid, expired, withdrawn, free, or not processed yet); details: status */
  ORDER_NOT_PAYABLE: 'ORDER_NOT_PAYABLE',
  PAYMENT_NOT_FOUND: 'PAYMENT_NOT_FOUND',
  /** a webhook whose Stripe-Signature does not verify (forged, another secret, too old, replayed with another body) */
  WEBHOOK_SIGNATURE_INVALID: 'WEBHOOK_SIGNATURE_INVALID',
  /** the payment provider did not answer; retry */
  PAYMENT_PROVIDER_UNAVAILABLE: 'PAYMENT_PROVIDER_UNAVAILABLE',
  // waiting room (docs/ARCHITECTURE.md §10)
  /** the product's waiting room is off */
  ROOM_NOT_FOUND: 'ROOM_NOT_FOUND',
  /** joining before the room opens (details: opensAt) */
  ROOM_NOT_OPEN: 'ROOM_NOT_OPEN',
  /** an order for a product whose room is on, without a pass */
  ROOM_PASS_REQUIRED: 'ROOM_PASS_REQUIRED',
  /** a forged, expired, used, another buyer's or another product's pass */
  ROOM_PASS_INVALID: 'ROOM_PASS_INVALID',
  /** sign-up needs a solved proof-of-work challenge (GET /auth/challenge) and none was sent */
  PROOF_OF_WORK_REQUIRED: 'PROOF_OF_WORK_REQUIRED',
  /** a forged, expired, unsolved or already used proof-of-work challenge */
  PROOF_OF_WORK_INVALID: 'PROOF_OF_WORK_INVALID'
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const reasonPhrase: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

export const statusText = (statusCode: number): string => reasonPhrase[statusCode] ?? 'Error'

/** An error a route throws on purpose; the platform's error handler answers it as is. */
export class AppError extends Error {
  readonly statusCode: number
  readonly code: ErrorCode
  /** extra fields merged into the response body (e.g. `available` for INSUFFICIENT_STOCK) */
  readonly details: Record<string, unknown> | undefined
  /** response headers (e.g. Retry-After for 503) */
  readonly headers: Record<string, string> | undefined

  constructor (statusCode: number, code: ErrorCode, message: string,
    options: { details?: Record<string, unknown>, headers?: Record<string, string>, cause?: unknown } = {}) {
    // A client error is an answer, not a fault: no stack trace is captured for it (once a sale sells
    // out, tens of thousands of 409s a second would each pay for one nobody reads).
    const stackTraceLimit = Error.stackTraceLimit
    if (statusCode < 500) Error.stackTraceLimit = 0
    super(message, { cause: options.cause })
    Error.stackTraceLimit = stackTraceLimit
    this.name = 'AppError'
    this.statusCode = statusCode
    this.code = code
    this.details = options.details
    this.headers = options.headers
  }
}

/** 503 with Retry-After: nothing was changed, the client may retry (with the same Idempotency-Key). */
export const serviceUnavailable = (message: string, cause?: unknown): AppError =>
  new AppError(503, ErrorCode.SERVICE_UNAVAILABLE, message, { headers: { 'retry-after': '1' }, cause })

export function errorBody (statusCode: number, code: string, message: string, details?: Record<string, unknown>): ErrorResponse {
  return { ...details, statusCode, code, error: statusText(statusCode), message }
}
