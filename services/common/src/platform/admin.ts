import { timingSafeEqual, createHash } from 'node:crypto'
import type { preHandlerAsyncHookHandler } from 'fastify'
import { AppError, ErrorCode } from '../contracts/errors.ts'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** preHandler for admin routes: `Authorization: Bearer <ADMIN_TOKEN>`; 401 without, 403 wrong. */
export function requireAdmin (adminToken: string): preHandlerAsyncHookHandler {
  const expected = digest(adminToken)
  return async (request) => {
    const header = request.headers.authorization
    if (header === undefined || header === '') {
      throw new AppError(401, ErrorCode.UNAUTHORIZED, 'missing Authorization: Bearer <admin token>',
        { headers: { 'www-authenticate': 'Bearer' } })
    }
    const match = /^Bearer\s+(.+)$/i.exec(header)
    // Compare digests in constant time: the token's length and prefix do not leak through timing.
    if (match === null || !timingSafeEqual(digest(match[1] ?? ''), expected)) {
      throw new AppError(403, ErrorCode.FORBIDDEN, 'admin token is not valid')
    }
  }
}

/** OpenAPI security requirement for admin routes. */
export const adminSecurity = [{ adminToken: [] as string[] }]
