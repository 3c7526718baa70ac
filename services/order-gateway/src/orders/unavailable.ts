import { AppError, ErrorCode } from '@flash/common'

/** 503 with Retry-After: nothing was changed, the client may retry (with the same Idempotency-Key). */
export const serviceUnavailable = (message: string, cause?: unknown): AppError =>
  new AppError(503, ErrorCode.SERVICE_UNAVAILABLE, message, { headers: { 'retry-after': '1' }, cause })
