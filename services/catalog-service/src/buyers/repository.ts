import { createHash } from 'node:crypto'
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise'

// SQL of buyer accounts and their refresh tokens (init.sql: buyers, buyer_sessions), and nowhere else.

export interface BuyerRecord {
  id: string
  username: string
  passwordHash: string
  createdAt: string
}

interface BuyerRow extends RowDataPacket {
  id: number | string
  username: string
  password_hash: string
  created_at: Date
}

const toBuyer = (row: BuyerRow): BuyerRecord => ({
  id: String(row.id),
  username: row.username,
  passwordHash: row.password_hash,
  createdAt: row.created_at.toISOString()
})

/** Only a digest of a refresh token is stored: a copy of the table signs nobody in. */
export const refreshTokenDigest = (token: string): string => createHash('sha256').update(token).digest('hex')

const SELECT_BUYER = 'SELECT id, username, password_hash, created_at FROM buyers'

export class BuyerRepository {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  /** The new buyer, or null when the username is taken (case-insensitively). */
  async create (username: string, passwordHash: string): Promise<BuyerRecord | null> {
    try {
      const [result] = await this.#pool.execute<ResultSetHeader>(
        'INSERT INTO buyers (username, password_hash) VALUES (?, ?)', [username, passwordHash])
      return await this.findById(String(result.insertId))
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_DUP_ENTRY') return null
      throw error
    }
  }

  async findByUsername (username: string): Promise<BuyerRecord | null> {
    const [rows] = await this.#pool.execute<BuyerRow[]>(`${SELECT_BUYER} WHERE username = ?`, [username])
    return rows[0] ? toBuyer(rows[0]) : null
  }

  async findById (id: string): Promise<BuyerRecord | null> {
    if (!/^\d{1,20}$/.test(id)) return null
    const [rows] = await this.#pool.execute<BuyerRow[]>(`${SELECT_BUYER} WHERE id = ?`, [id])
    return rows[0] ? toBuyer(rows[0]) : null
  }

  async setPasswordHash (id: string, passwordHash: string): Promise<void> {
    await this.#pool.execute('UPDATE buyers SET password_hash = ? WHERE id = ?', [passwordHash, id])
  }

  async saveRefreshToken (buyerId: string, token: string, ttlSeconds: number): Promise<void> {
    await this.#pool.execute(
      'INSERT INTO buyer_sessions (token_hash, buyer_id, expires_at) VALUES (?, ?, NOW(3) + INTERVAL ? SECOND)',
      [refreshTokenDigest(token), buyerId, ttlSeconds])
  }

  /**
   * Uses a refresh token up: revokes it if it is live (not revoked, not expired) and returns its
   * buyer. One UPDATE decides, so two concurrent refreshes with one token cannot both succeed.
   */
  async consumeRefreshToken (token: string): Promise<BuyerRecord | null> {
    const digest = refreshTokenDigest(token)
    const [result] = await this.#pool.execute<ResultSetHeader>(
      'UPDATE buyer_sessions SET revoked_at = NOW(3) WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > NOW(3)', [digest])
    if (result.affectedRows !== 1) return null
    const [rows] = await this.#pool.execute<BuyerRow[]>(
      `SELECT b.id, b.username, b.password_hash, b.created_at FROM buyer_sessions s JOIN buyers b ON b.id = s.buyer_id
        WHERE s.token_hash = ?`, [digest])
    return rows[0] ? toBuyer(rows[0]) : null
  }

  async revokeRefreshToken (token: string): Promise<void> {
    await this.#pool.execute('UPDATE buyer_sessions SET revoked_at = NOW(3) WHERE token_hash = ? AND revoked_at IS NULL', [refreshTokenDigest(token)])
  }

  async revokeAllRefreshTokens (buyerId: string): Promise<void> {
    await this.#pool.execute('UPDATE buyer_sessions SET revoked_at = NOW(3) WHERE buyer_id = ? AND revoked_at IS NULL', [buyerId])
  }
}
