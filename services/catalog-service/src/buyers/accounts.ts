import { randomBytes } from 'node:crypto'
import { AppError, ErrorCode, REFRESH_TOKEN_TTL_SECONDS, ACCESS_TOKEN_TTL_SECONDS, unauthenticated, type Buyer } from '@flash/common'
import type { BuyerRepository, BuyerRecord } from './repository.ts'
import type { LoginLockout } from './lockout.ts'
import { hashPassword } from './passwords.ts'

// Buyer accounts: register, sign in, refresh, sign out, change password. Routes stay thin; the
// rules live here.

export interface Session {
  buyer: BuyerRecord
  accessToken: string
  expiresIn: number
  /** opaque, 256 random bits; the server keeps only its SHA-256 */
  refreshToken: string
}

export interface AccountsOptions {
  repository: BuyerRepository
  lockout: LoginLockout
  signAccessToken: (buyer: Buyer) => string
}

export class Accounts {
  readonly #o: AccountsOptions

  constructor (options: AccountsOptions) {
    this.#o = options
  }

  async register (username: string, password: string): Promise<Session> {
    const hash = await hashPassword(password)
    const buyer = await this.#o.repository.create(username, hash)
    if (buyer === null) {
      // Registration necessarily tells whether a name is free; the per-address limit bounds how fast
      // anyone can ask. Sign-in never tells (one answer for both failures).
      throw new AppError(409, ErrorCode.USERNAME_TAKEN, 'this username is taken; choose another', { details: { field: 'username' } })
    }
    return this.#openSession(buyer)
  }

  async login (username: string, password: string): Promise<Session> {
    const buyer = await this.#checkPassword(username, password)
    return this.#openSession(buyer)
  }

  /** Rotates: the presented refresh token is used up, a new one is issued. */
  async refresh (refreshToken: string | undefined): Promise<Session> {
    const buyer = refreshToken === undefined || refreshToken === '' || refreshToken.length > 128
      ? null
      : await this.#o.repository.consumeRefreshToken(refreshToken)
    if (buyer === null) throw unauthenticated('the session has ended (signed out, expired or already refreshed): sign in again')
    return this.#openSession(buyer)
  }

  async logout (refreshToken: string | undefined): Promise<void> {
    if (refreshToken !== undefined && refreshToken !== '' && refreshToken.length <= 128) {
      await this.#o.repository.revokeRefreshToken(refreshToken)
    }
  }

  async me (buyerId: string): Promise<BuyerRecord> {
    const buyer = await this.#o.repository.findById(buyerId)
    if (buyer === null) throw unauthenticated('this session belongs to no buyer')
    return buyer
  }

  /** A new password revokes every session of the buyer (all devices), then opens a new one here. */
  async changePassword (buyerId: string, currentPassword: string, newPassword: string): Promise<Session> {
    const buyer = await this.me(buyerId)
    await this.#checkPassword(buyer.username, currentPassword)
    await this.#o.repository.setPasswordHash(buyer.id, await hashPassword(newPassword))
    await this.#o.repository.revokeAllRefreshTokens(buyer.id)
    return this.#openSession(buyer)
  }

  async #checkPassword (username: string, password: string): Promise<BuyerRecord> {
    return await this.#o.lockout.signIn(username, password, () => this.#o.repository.findByUsername(username))
  }

  async #openSession (buyer: BuyerRecord): Promise<Session> {
    const refreshToken = randomBytes(32).toString('base64url')
    await this.#o.repository.saveRefreshToken(buyer.id, refreshToken, REFRESH_TOKEN_TTL_SECONDS)
    return {
      buyer,
      accessToken: this.#o.signAccessToken({ id: buyer.id, username: buyer.username }),
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
      refreshToken
    }
  }
}
