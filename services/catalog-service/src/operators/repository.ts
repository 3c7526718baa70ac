import type { Connection, Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import type { OperatorRole } from '@flash/common'

// SQL of operator accounts (migrations/005_operators.sql: operators), and nowhere else.

export interface OperatorRecord {
  id: number
  username: string
  passwordHash: string
  role: OperatorRole
  createdAt: string
}

interface OperatorRow extends RowDataPacket {
  id: number
  username: string
  password_hash: string
  role: OperatorRole
  created_at: Date
}

const toOperator = (row: OperatorRow): OperatorRecord => ({
  id: Number(row.id),
  username: row.username,
  passwordHash: row.password_hash,
  role: row.role,
  createdAt: row.created_at.toISOString()
})

const SELECT_OPERATOR = 'SELECT id, username, password_hash, role, created_at FROM operators'

export class OperatorRepository {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  /** The new operator's id, or null when the username is taken (case-insensitively). */
  async create (username: string, passwordHash: string, role: OperatorRole, db: Connection): Promise<number | null> {
    try {
      const [result] = await db.query<ResultSetHeader>('INSERT INTO operators (username, password_hash, role) VALUES (?, ?, ?)', [username, passwordHash, role])
      return result.insertId
    } catch (error) {
      if ((error as { code?: string }).code === 'ER_DUP_ENTRY') return null
      throw error
    }
  }

  /** false when there is no such operator */
  async setRole (id: number, role: OperatorRole, db: Connection): Promise<boolean> {
    const [result] = await db.query<ResultSetHeader>('UPDATE operators SET role = ? WHERE id = ?', [role, id])
    return result.affectedRows > 0
  }

  async findByUsername (username: string): Promise<OperatorRecord | null> {
    const [rows] = await this.#pool.query<OperatorRow[]>(`${SELECT_OPERATOR} WHERE username = ?`, [username])
    return rows[0] ? toOperator(rows[0]) : null
  }

  async findById (id: number): Promise<OperatorRecord | null> {
    const [rows] = await this.#pool.query<OperatorRow[]>(`${SELECT_OPERATOR} WHERE id = ?`, [id])
    return rows[0] ? toOperator(rows[0]) : null
  }

  async all (): Promise<OperatorRecord[]> {
    const [rows] = await this.#pool.query<OperatorRow[]>(`${SELECT_OPERATOR} ORDER BY id`)
    return rows.map(toOperator)
  }
}
