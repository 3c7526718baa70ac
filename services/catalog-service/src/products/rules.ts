import { AppError, ErrorCode } from '@flash/common'

// The catalog's decisions about a product's input that no schema can state: pure functions, unit-tested
// (test/rules.unit.test.ts); the routes' schemas check everything else first.

/**
 * The schema's pattern (http or https, no spaces) lets through what no browser can load, e.g.
 * `http://r6C[` (a bracket outside an IPv6 address): the URL must also parse as browsers parse it.
 */
export function checkImageUrl (imageUrl: string | null | undefined): void {
  if (typeof imageUrl === 'string' && !URL.canParse(imageUrl)) {
    throw new AppError(400, ErrorCode.VALIDATION_FAILED, 'body/imageUrl must be a valid http(s) URL')
  }
}

const WINDOW_MIN = Date.parse('2000-01-01T00:00:00Z')
const WINDOW_MAX = Date.parse('9999-12-31T00:00:00Z')

/** Parses and checks a sale window: each bound in range, the end after the start (400 naming the field). */
export function saleWindow (input: { saleStartsAt: string | null, saleEndsAt: string | null }): { startsAt: Date | null, endsAt: Date | null } {
  const bound = (field: 'saleStartsAt' | 'saleEndsAt'): Date | null => {
    const text = input[field]
    if (text === null) return null
    const ms = Date.parse(text)
    if (!Number.isFinite(ms) || ms < WINDOW_MIN || ms > WINDOW_MAX) {
      throw new AppError(400, ErrorCode.VALIDATION_FAILED, `body/${field} must be a date-time between 2000 and 9999`)
    }
    return new Date(ms)
  }
  const startsAt = bound('saleStartsAt')
  const endsAt = bound('saleEndsAt')
  if (startsAt !== null && endsAt !== null && endsAt.getTime() <= startsAt.getTime()) {
    throw new AppError(400, ErrorCode.VALIDATION_FAILED, 'body/saleEndsAt must be after saleStartsAt')
  }
  return { startsAt, endsAt }
}
