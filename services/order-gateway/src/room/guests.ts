import { randomBytes } from 'node:crypto'
import type { Cluster } from 'ioredis'
import {
  AppError, ErrorCode, GUEST_TICKET_LABEL, createProofOfWork, createRoomPasses, powUsedKey,
  type PowChallenge, type ProofOfWork, type RoomPasses
} from '@flash/common'

// Guests in a waiting room (docs/ARCHITECTURE.md §10), where the product allows guests (no per-buyer
// limit): a place costs a solved proof-of-work challenge (ROOM_GUEST_POW_BITS), used once, so a
// thousand fake guests cost a bot real CPU. The guest's identity in the room is a random id in a
// signed ticket (`X-Room-Ticket`), sent with its polls and its order.

const CHALLENGE_TTL_MS = 5 * 60_000
const TICKET_TTL_MS = 24 * 3_600_000
const scope = (productId: number): string => `room:${productId}`

export class RoomGuests {
  readonly #redis: Cluster
  readonly #pow: ProofOfWork
  readonly #tickets: RoomPasses
  readonly #bits: number

  constructor (options: { redis: Cluster, secret: string, bits: number }) {
    this.#redis = options.redis
    this.#pow = createProofOfWork(options.secret)
    this.#tickets = createRoomPasses(options.secret, GUEST_TICKET_LABEL)
    this.#bits = options.bits
  }

  challenge (productId: number, now = Date.now()): PowChallenge {
    return this.#pow.issue(scope(productId), this.#bits, now, CHALLENGE_TTL_MS)
  }

  /** A new guest id for a solved, unused challenge; throws the refusal. */
  async admit (productId: number, proof: { challenge: string, nonce: string } | undefined, now = Date.now()): Promise<string> {
    if (proof === undefined) {
      throw new AppError(403, ErrorCode.PROOF_OF_WORK_REQUIRED,
        `a guest joins after proof of work: GET /rooms/${productId}/challenge and send body/proof {challenge, nonce} (or sign in)`)
    }
    const checked = this.#pow.verify(proof.challenge, proof.nonce, scope(productId), this.#bits, now)
    if (!checked.ok) throw new AppError(403, ErrorCode.PROOF_OF_WORK_INVALID, `proof of work refused: ${checked.reason}`)
    const fresh = await this.#redis.set(powUsedKey(checked.id), '1', 'PX', Math.max(1, checked.expiresAt - now), 'NX')
    if (fresh === null) throw new AppError(403, ErrorCode.PROOF_OF_WORK_INVALID, 'proof of work refused: this challenge was used already')
    return `guest-${randomBytes(16).toString('base64url')}`
  }

  ticketFor (productId: number, guestId: string, now = Date.now()): string {
    return this.#tickets.issue({ productId, buyerId: guestId, expiresAt: now + TICKET_TTL_MS })
  }

  /** The guest a ticket names; throws 401 for a missing, forged or expired one. */
  guestOf (productId: number, ticket: string | undefined, now = Date.now()): string {
    if (ticket === undefined) {
      throw new AppError(401, ErrorCode.SIGN_IN_REQUIRED, `sign in, or as a guest send the ticket your join answered (X-Room-Ticket) for product ${productId}`,
        { headers: { 'www-authenticate': 'Bearer' } })
    }
    const checked = this.#tickets.verify(ticket, { productId, buyerId: null }, now)
    if (!checked.ok) throw new AppError(401, ErrorCode.UNAUTHENTICATED, `room ticket refused: ${checked.reason}`)
    return checked.pass.buyerId
  }
}
