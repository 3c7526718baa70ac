import { createHmac, timingSafeEqual } from 'node:crypto'

// The waiting room's pass (docs/ARCHITECTURE.md §10): `base64url(JSON {p, b, e}).base64url(HMAC)`,
// naming the product, the buyer and the expiry (ms epoch). Verified in memory by every gateway: a
// forged, expired or someone else's pass is refused without a Redis call. Its key is derived from
// AUTH_JWT_SECRET under a label of its own, like the access-token and receipt keys.

const PASS_KEY_LABEL = 'flash-sale/v1/waiting-room-pass'
export const GUEST_TICKET_LABEL = 'flash-sale/v1/waiting-room-guest-ticket'

export interface RoomPass { productId: number, buyerId: string, expiresAt: number }

export type PassCheck = { ok: true, pass: RoomPass } | { ok: false, reason: string }

export interface RoomPasses {
  issue: (pass: RoomPass) => string
  /** `now`: ms epoch (this process's clock); `buyerId` null: whoever it names (a guest's ticket) */
  verify: (text: string, expected: { productId: number, buyerId: string | null }, now: number) => PassCheck
}

/**
 * `label`: what the tokens are for; a guest's ticket (its identity in one room) is signed under
 * another label than passes, so neither can stand in for the other.
 */
export function createRoomPasses (secret: string, label = PASS_KEY_LABEL): RoomPasses {
  const key = createHmac('sha256', secret).update(label).digest()
  const mac = (body: string): Buffer => createHmac('sha256', key).update(body).digest()
  return {
    issue: ({ productId, buyerId, expiresAt }) => {
      const body = Buffer.from(JSON.stringify({ p: productId, b: buyerId, e: expiresAt })).toString('base64url')
      return `${body}.${mac(body).toString('base64url')}`
    },
    verify: (text, expected, now) => {
      const [body = '', signature = '', extra] = text.split('.')
      const given = Buffer.from(signature, 'base64url')
      const wanted = mac(body)
      if (extra !== undefined || given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'the pass is not one this service issued' }
      const claims = parseClaims(body)
      if (claims === null) return { ok: false, reason: 'the pass is malformed' }
      if (claims.productId !== expected.productId) return { ok: false, reason: `the pass is for product ${claims.productId}` }
      if (expected.buyerId !== null && claims.buyerId !== expected.buyerId) return { ok: false, reason: 'the pass is another buyer\'s' }
      if (claims.expiresAt <= now) return { ok: false, reason: 'the pass has expired; join the room again' }
      return { ok: true, pass: claims }
    }
  }
}

function parseClaims (body: string): RoomPass | null {
  try {
    const value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { p?: unknown, b?: unknown, e?: unknown }
    if (typeof value.p !== 'number' || typeof value.b !== 'string' || typeof value.e !== 'number') return null
    return { productId: value.p, buyerId: value.b, expiresAt: value.e }
  } catch {
    return null
  }
}
