import type { Cluster } from 'ioredis'
import { AppError, ErrorCode, powUsedKey, type PowChallenge, type ProofOfWork } from '@flash/common'

// What a sign-up costs a script (docs/ARCHITECTURE.md §10): a solved proof-of-work challenge, used
// once (the marker in Redis holds across catalog replicas), and at most `perHour` sign-ups per client
// address in this process. Both off by default. Checked before the password is hashed.

const SCOPE = 'signup'
const CHALLENGE_TTL_MS = 5 * 60_000
const HOUR_MS = 3_600_000
const MAX_TRACKED_ADDRESSES = 100_000

export interface SignupGuardOptions {
  redis: Cluster
  pow: ProofOfWork
  bits: number
  perHour: number
  now?: () => number
}

export class SignupGuard {
  readonly #o: SignupGuardOptions
  readonly #now: () => number
  readonly #perAddress = new Map<string, { since: number, count: number }>()

  constructor (options: SignupGuardOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  challenge (): PowChallenge {
    return this.#o.pow.issue(SCOPE, this.#o.bits, this.#now(), CHALLENGE_TTL_MS)
  }

  /** Throws the refusal; otherwise the sign-up may go on (and is counted against the address). */
  async admit (address: string, proof: { challenge: string, nonce: string } | undefined): Promise<void> {
    const { bits, perHour } = this.#o
    if (bits > 0) {
      if (proof === undefined) {
        throw new AppError(403, ErrorCode.PROOF_OF_WORK_REQUIRED, `sign-up needs proof of work: GET /auth/challenge and send body/proof {challenge, nonce} (${bits} leading zero bits)`, { details: { field: 'proof' } })
      }
      const now = this.#now()
      const checked = this.#o.pow.verify(proof.challenge, proof.nonce, SCOPE, bits, now)
      if (!checked.ok) throw new AppError(403, ErrorCode.PROOF_OF_WORK_INVALID, `body/proof refused: ${checked.reason}`, { details: { field: 'proof' } })
      const fresh = await this.#o.redis.set(powUsedKey(checked.id), '1', 'PX', Math.max(1, checked.expiresAt - now), 'NX')
      if (fresh === null) throw new AppError(403, ErrorCode.PROOF_OF_WORK_INVALID, 'body/proof refused: this challenge was used already', { details: { field: 'proof' } })
    }
    if (perHour > 0) this.#count(address, perHour)
  }

  #count (address: string, perHour: number): void {
    const now = this.#now()
    if (this.#perAddress.size >= MAX_TRACKED_ADDRESSES) {
      for (const [key, entry] of this.#perAddress) if (now - entry.since >= HOUR_MS) this.#perAddress.delete(key)
    }
    let entry = this.#perAddress.get(address)
    if (entry === undefined || now - entry.since >= HOUR_MS) {
      entry = { since: now, count: 0 }
      this.#perAddress.set(address, entry)
    }
    if (entry.count >= perHour) {
      const retry = Math.ceil((entry.since + HOUR_MS - now) / 1000)
      throw new AppError(429, ErrorCode.RATE_LIMITED, `too many sign-ups from this address; retry in ${retry} s`, { headers: { 'retry-after': String(retry) } })
    }
    entry.count++
  }
}
