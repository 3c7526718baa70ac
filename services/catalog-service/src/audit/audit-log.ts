import type { Connection, Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { operatorOf, type AuditAction, type AuditOutcome, type Operator } from '@flash/common'

// The audit log (MySQL `audit_log`): who did which admin write, to what, when, and how it ended.
// A change in MySQL and its entry commit together (`change`); a refusal, a failure or a change
// outside MySQL (sync, release-stale: Redis) is recorded on its own (`record`).

/** who asked, and the request (its id ties the entry to the logs) */
export interface AuditActor { operator: Operator, requestId: string }

export interface AuditEntry {
  action: AuditAction
  productId?: number | null
  operatorId?: number | null
  /** what was asked, short (at most 1,000 characters are kept) */
  detail?: string | null
}

export interface AuditRecord {
  id: number
  actor: string
  actorRole: Operator['role']
  action: AuditAction
  productId: number | null
  operatorId: number | null
  detail: string | null
  outcome: AuditOutcome
  code: string | null
  requestId: string | null
  createdAt: string
}

export interface AuditQuery { page: number, pageSize: number, productId?: number | undefined, actor?: string | undefined }

interface AuditRow extends RowDataPacket {
  id: number
  actor: string
  actor_role: Operator['role']
  action: AuditAction
  product_id: number | null
  operator_id: number | null
  detail: string | null
  outcome: AuditOutcome
  code: string | null
  request_id: string | null
  created_at: Date
}

const DETAIL_LENGTH = 1000

export class AuditLog {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  /**
   * Runs a MySQL change in a transaction and, when it changed something (`entryFor` answers an
   * entry), writes the entry in the same transaction. Whatever `change` throws rolls both back.
   */
  async change<T>(actor: AuditActor, change: (db: PoolConnection) => Promise<T>, entryFor: (result: T) => AuditEntry | null): Promise<T> {
    const conn = await this.#pool.getConnection()
    try {
      await conn.beginTransaction()
      const result = await change(conn)
      const entry = entryFor(result)
      if (entry !== null) await this.#insert(conn, actor, entry, 'ok', null)
      await conn.commit()
      return result
    } catch (error) {
      await conn.rollback().catch(() => {})
      throw error
    } finally {
      conn.release()
    }
  }

  async record (actor: AuditActor, entry: AuditEntry, outcome: AuditOutcome, code: string | null = null): Promise<void> {
    await this.#insert(this.#pool, actor, entry, outcome, code)
  }

  /** Newest first, optionally of one product or one actor. */
  async page (query: AuditQuery): Promise<{ items: AuditRecord[], total: number }> {
    const where: string[] = []
    const values: Array<string | number> = []
    if (query.productId !== undefined) { where.push('product_id = ?'); values.push(query.productId) }
    if (query.actor !== undefined) { where.push('actor = ?'); values.push(query.actor) }
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`
    const [[rows], [counts]] = await Promise.all([
      this.#pool.query<AuditRow[]>(`SELECT * FROM audit_log ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`, [...values, query.pageSize, (query.page - 1) * query.pageSize]),
      this.#pool.query<Array<RowDataPacket & { total: number }>>(`SELECT COUNT(*) AS total FROM audit_log ${clause}`, values)
    ])
    return { items: rows.map(toRecord), total: Number(counts[0]?.total ?? 0) }
  }

  async #insert (db: Connection, actor: AuditActor, entry: AuditEntry, outcome: AuditOutcome, code: string | null): Promise<void> {
    await db.query<ResultSetHeader>(
      'INSERT INTO audit_log (actor, actor_role, action, product_id, operator_id, detail, outcome, code, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [actor.operator.actor, actor.operator.role, entry.action, entry.productId ?? null, entry.operatorId ?? null,
        entry.detail === undefined || entry.detail === null ? null : entry.detail.slice(0, DETAIL_LENGTH), outcome, code, actor.requestId.slice(0, 64)])
  }
}

const toRecord = (row: AuditRow): AuditRecord => ({
  id: Number(row.id),
  actor: row.actor,
  actorRole: row.actor_role,
  action: row.action,
  productId: row.product_id === null ? null : Number(row.product_id),
  operatorId: row.operator_id === null ? null : Number(row.operator_id),
  detail: row.detail,
  outcome: row.outcome,
  code: row.code,
  requestId: row.request_id,
  createdAt: row.created_at.toISOString()
})

/** The audit actor of a request an admin hook identified (every admin write route has one). */
export function actorOf (request: FastifyRequest): AuditActor {
  const operator = operatorOf(request)
  if (operator === undefined) throw new Error(`${request.method} ${request.url}: no operator identified (an admin route without its hook)`)
  return { operator, requestId: request.id }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the admin write this route is: its refusals and failures are audited too */
    audit?: AuditAction
  }
}

/**
 * Audits what an admin write route refused (a viewer, a bad body, an archived product: `refused`)
 * or failed at (`failed`), with the error's code. Only for an identified operator: a request
 * without valid credentials has nobody to record.
 */
export function auditRefusals (app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onError', async (request, _reply, error) => {
    const action = request.routeOptions.config.audit
    const operator = operatorOf(request)
    if (action === undefined || operator === undefined) return
    const status = (error as { statusCode?: number }).statusCode ?? 500
    const id = Number((request.params as { id?: unknown } | undefined)?.id)
    const entry: AuditEntry = action.startsWith('operator.')
      ? { action, operatorId: Number.isSafeInteger(id) && id > 0 ? id : null }
      : { action, productId: Number.isSafeInteger(id) && id > 0 ? id : null }
    await audit.record({ operator, requestId: request.id }, entry, status < 500 ? 'refused' : 'failed', (error as { code?: string }).code ?? null)
      .catch((err: unknown) => { request.log.error({ err }, 'the audit log did not take a refusal') })
  })
}
