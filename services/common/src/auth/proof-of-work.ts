import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

// Proof of work for what a bot would otherwise get for free (sign-up): the server hands out a signed
// challenge, the client finds a nonce whose SHA-256 with it starts with `bits` zero bits (2^bits
// hashes on average), the server checks it with one hash. Stateless but for the one-use marker the
// caller keeps (Redis `powUsedKey`). The key is derived from AUTH_JWT_SECRET under its own label.

const POW_KEY_LABEL = 'flash-sale/v1/proof-of-work'

export interface PowChallenge { challenge: string, bits: number, expiresAt: number }

export type PowCheck = { ok: true, id: string, expiresAt: number } | { ok: false, reason: string }

export interface ProofOfWork {
  issue: (scope: string, bits: number, now: number, ttlMs: number) => PowChallenge
  verify: (challenge: string, nonce: string, scope: string, bits: number, now: number) => PowCheck
}

/** Leading zero bits of a hash. */
export function leadingZeroBits (hash: Buffer): number {
  let bits = 0
  for (const byte of hash) {
    if (byte === 0) { bits += 8; continue }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}

const workOf = (challenge: string, nonce: string): Buffer => createHash('sha256').update(`${challenge}:${nonce}`).digest()

/** What a client does (tests, bench): the first nonce that meets `bits`. */
export function solveProofOfWork (challenge: string, bits: number): string {
  for (let nonce = 0; ; nonce++) {
    if (leadingZeroBits(workOf(challenge, String(nonce))) >= bits) return String(nonce)
  }
}

export function createProofOfWork (secret: string): ProofOfWork {
  const key = createHmac('sha256', secret).update(POW_KEY_LABEL).digest()
  const mac = (body: string): Buffer => createHmac('sha256', key).update(body).digest()
  return {
    issue: (scope, bits, now, ttlMs) => {
      const expiresAt = now + ttlMs
      const body = Buffer.from(JSON.stringify({ s: scope, b: bits, e: expiresAt, r: randomBytes(12).toString('base64url') })).toString('base64url')
      return { challenge: `${body}.${mac(body).toString('base64url')}`, bits, expiresAt }
    },
    verify: (challenge, nonce, scope, bits, now) => {
      const [body = '', signature = '', extra] = challenge.split('.')
      const given = Buffer.from(signature, 'base64url')
      const wanted = mac(body)
      if (extra !== undefined || given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'not a challenge this service issued' }
      let claims: { s?: unknown, b?: unknown, e?: unknown, r?: unknown }
      try {
        claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims
      } catch {
        return { ok: false, reason: 'a malformed challenge' }
      }
      if (claims.s !== scope || typeof claims.e !== 'number' || typeof claims.r !== 'string' || typeof claims.b !== 'number') return { ok: false, reason: 'a challenge for something else' }
      if (claims.e <= now) return { ok: false, reason: 'the challenge expired; ask for a new one' }
      if (leadingZeroBits(workOf(challenge, nonce)) < Math.max(bits, claims.b)) return { ok: false, reason: 'the nonce does not solve the challenge' }
      return { ok: true, id: claims.r, expiresAt: claims.e }
    }
  }
}
