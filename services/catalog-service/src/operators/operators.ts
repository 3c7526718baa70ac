import { AppError, ErrorCode, OPERATOR_TOKEN_TTL_SECONDS, type OperatorClaims, type OperatorRole } from '@flash/common'
import type { OperatorRepository, OperatorRecord } from './repository.ts'
import type { AuditActor, AuditLog } from '../audit/audit-log.ts'
import type { LoginLockout } from '../buyers/lockout.ts'
import { hashPassword } from '../buyers/passwords.ts'
import type { OperatorSession, OperatorView } from '../schemas.ts'

// Operator accounts: sign in (an access token carrying the role, verified by every service's admin
// routes, services/common/src/auth/operators.ts), create, change a role. Creating and changing are
// admin writes: each commits with its audit entry. Sign-in is guarded like a buyer's: the same
// answer for an unknown name and a wrong password, the per-address limit, and the per-name lockout
// (its counter under `operator:<username>`, a name no buyer can have).

export interface OperatorsOptions {
  repository: OperatorRepository
  audit: AuditLog
  lockout: LoginLockout
  signToken: (claims: OperatorClaims) => string
}

const view = (operator: OperatorRecord): OperatorView =>
  ({ id: operator.id, username: operator.username, role: operator.role, createdAt: operator.createdAt })

const notFound = (id: number): AppError => new AppError(404, ErrorCode.OPERATOR_NOT_FOUND, `operator ${id} does not exist`)

export class Operators {
  readonly #o: OperatorsOptions

  constructor (options: OperatorsOptions) {
    this.#o = options
  }

  async login (username: string, password: string): Promise<OperatorSession> {
    // The lockout counts under `operator:<name>`, a name no buyer can have (':' is not allowed in one).
    const operator = await this.#o.lockout.signIn(`operator:${username}`, password, () => this.#o.repository.findByUsername(username))
    return {
      operator: view(operator),
      accessToken: this.#o.signToken({ sub: String(operator.id), name: operator.username, role: operator.role }),
      tokenType: 'Bearer',
      expiresIn: OPERATOR_TOKEN_TTL_SECONDS
    }
  }

  async list (): Promise<OperatorView[]> {
    return (await this.#o.repository.all()).map(view)
  }

  async create (username: string, password: string, role: OperatorRole, actor: AuditActor): Promise<OperatorView> {
    const hash = await hashPassword(password)
    const id = await this.#o.audit.change(actor, (db) => this.#o.repository.create(username, hash, role, db),
      (created) => created === null ? null : { action: 'operator.create', operatorId: created, detail: JSON.stringify({ username, role }) })
    if (id === null) throw new AppError(409, ErrorCode.USERNAME_TAKEN, 'this operator name is taken; choose another', { details: { field: 'username' } })
    return view(await this.#mustFind(id))
  }

  async setRole (id: number, role: OperatorRole, actor: AuditActor): Promise<OperatorView> {
    const found = await this.#o.audit.change(actor, (db) => this.#o.repository.setRole(id, role, db),
      (changed) => changed ? { action: 'operator.role', operatorId: id, detail: JSON.stringify({ role }) } : null)
    if (!found) throw notFound(id)
    return view(await this.#mustFind(id))
  }

  async #mustFind (id: number): Promise<OperatorRecord> {
    const operator = await this.#o.repository.findById(id)
    if (operator === null) throw notFound(id)
    return operator
  }
}
