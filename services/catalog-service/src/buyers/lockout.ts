import type { Cluster } from 'ioredis'
import { AppError, ErrorCode, loginFailuresKey } from '@flash/common'
import { dummyHash, verifyPassword } from './passwords.ts'

// Failed sign-ins per username, in Redis so the count holds across catalog replicas and restarts.
// A fixed window from the first failure: after `maxFailures` wrong passwords the account answers 429
// (without hashing anything) until the window ends; then the right password works again. The per-
// address limit (@fastify/rate-limit, in process) is the other half: it slows one client trying many
// usernames, this slows many clients trying one username.
//
// The trade-off: anyone can lock an account for one window by failing on purpose. It is bounded (the
// window) and it only blocks signing in, not a session already open.

export interface LoginLockoutOptions {
  redis: Cluster
  maxFailures: number
  windowSeconds: number
}

export class LoginLockout {
  readonly #o: LoginLockoutOptions

  constructor (options: LoginLockoutOptions) {
    this.#o = options
  }

  /** Seconds until the username may try again, or 0 when it may try now. */
  async retryAfter (username: string): Promise<number> {
    const key = loginFailuresKey(username)
    const [failures, ttl] = await Promise.all([this.#o.redis.get(key), this.#o.redis.ttl(key)])
    if (Number(failures ?? 0) < this.#o.maxFailures) return 0
    return Math.max(ttl, 1)
  }

  async recordFailure (username: string): Promise<void> {
    const key = loginFailuresKey(username)
    // The window starts at the first failure (NX) and is not extended by later ones.
    await this.#o.redis.multi().incr(key).expire(key, this.#o.windowSeconds, 'NX').exec()
  }

  async clear (username: string): Promise<void> {
    await this.#o.redis.del(loginFailuresKey(username))
  }

  /**
   * The account `password` opens, guarded by this lockout under `name`: 429 while locked (nothing
   * hashed), else one answer, 401 INVALID_CREDENTIALS, for a wrong password and an unknown account
   * alike — an unknown one is checked against a dummy hash, so it takes as long (buyers and operators).
   */
  async signIn<A extends { passwordHash: string }> (name: string, password: string, find: () => Promise<A | null>): Promise<A> {
    const wait = await this.retryAfter(name)
    if (wait > 0) {
      throw new AppError(429, ErrorCode.RATE_LIMITED, `too many failed sign-ins for this name; retry in ${wait} s`,
        { headers: { 'retry-after': String(wait) } })
    }
    const account = await find()
    const matches = await verifyPassword(password, account?.passwordHash ?? await dummyHash())
    if (account === null || !matches) {
      await this.recordFailure(name)
      throw new AppError(401, ErrorCode.INVALID_CREDENTIALS, 'username or password is not correct')
    }
    await this.clear(name)
    return account
  }
}
