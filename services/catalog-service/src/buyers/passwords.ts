import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto'

// Password hashing: scrypt (memory-hard) from node:crypto, a random 16-byte salt per buyer. The stored
// string names its parameters (`scrypt$N$r$p$salt$hash`), so they can be raised later: old hashes
// keep verifying with the parameters they were made with.
//
// N=2^14, r=8, p=1: 16 MiB and roughly 40–80 ms of one core per hash on this machine. This is why
// accounts live in the catalog and not in the order gateway: hashing must never compete with the
// hot path for CPU (the gateway only verifies signed tokens, a few microseconds each).

const PARAMS = { N: 16_384, r: 8, p: 1 } as const
const KEY_LENGTH = 32
const SALT_LENGTH = 16
// Enough for N·r·128 bytes of the parameters above, and for hashes made with up to twice their N.
const MAX_MEMORY = 64 * 1024 * 1024

const scrypt = (password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFKC'), salt, keyLength, { ...options, maxmem: MAX_MEMORY }, (error, key) => {
      if (error) reject(error)
      else resolve(key)
    })
  })

export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH)
  const key = await scrypt(password, salt, KEY_LENGTH, PARAMS)
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Constant-time comparison of the derived key; false for a malformed stored string. */
export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, keyText] = stored.split('$')
  if (scheme !== 'scrypt' || saltText === undefined || keyText === undefined) return false
  const expected = Buffer.from(keyText, 'base64url')
  const key = await scrypt(password, Buffer.from(saltText, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) })
  return timingSafeEqual(key, expected)
}

/**
 * A hash of a password nobody knows, made once. An unknown username is checked against it, so that
 * answer takes as long as a wrong password for a real buyer: timing does not reveal which names exist.
 */
let dummy: Promise<string> | undefined
export const dummyHash = (): Promise<string> => (dummy ??= hashPassword(randomBytes(24).toString('base64url')))
