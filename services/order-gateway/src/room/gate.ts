import type { FastifyBaseLogger } from 'fastify'
import { AppError, ErrorCode, type Caller, type RoomPass, type RoomPasses, type RoomStore } from '@flash/common'
import type { RoomRegistry } from './registry.ts'
import type { RoomGuests } from './guests.ts'

// The order path's side of the waiting room (docs/ARCHITECTURE.md §10): a product whose room is on
// takes orders only with a pass. Everything that can be refused without Redis is refused here; the
// reservation script then uses the pass up (StockStore.reserve with `roomPass`), and an order undone
// after that gives it back.

export class RoomGate {
  readonly #registry: RoomRegistry
  readonly #store: RoomStore
  readonly #passes: RoomPasses
  readonly #guests: RoomGuests | undefined

  constructor (options: { registry: RoomRegistry, store: RoomStore, passes: RoomPasses, guests?: RoomGuests }) {
    this.#guests = options.guests
    this.#registry = options.registry
    this.#store = options.store
    this.#passes = options.passes
  }

  /** The verified pass an order of `productId` needs, undefined when its room is off; throws the refusal. */
  passFor (productId: number, caller: Caller, passText: string | undefined, now = Date.now(), ticket?: string): RoomPass | undefined {
    if (!this.#registry.has(productId)) return undefined
    if (caller.kind === 'admin') throw new AppError(403, ErrorCode.ROOM_PASS_REQUIRED, 'the admin does not buy through a waiting room')
    let buyerId: string
    if (caller.kind === 'buyer') buyerId = caller.buyerId
    else if (this.#guests !== undefined && ticket !== undefined) buyerId = this.#guests.guestOf(productId, ticket, now)
    else {
      throw new AppError(401, ErrorCode.SIGN_IN_REQUIRED, `product ${productId} sells through its waiting room: sign in (or join it as a guest) first`,
        { headers: { 'www-authenticate': 'Bearer' } })
    }
    if (passText === undefined) {
      throw new AppError(403, ErrorCode.ROOM_PASS_REQUIRED,
        `product ${productId} sells through its waiting room: join it (POST /rooms/${productId}/join) and order with the pass it hands you (X-Room-Pass)`)
    }
    const checked = this.#passes.verify(passText, { productId, buyerId }, now)
    if (!checked.ok) throw invalidPass(checked.reason)
    return checked.pass
  }

  /** The order was undone after its reservation used the pass: the buyer gets it back (while it is valid). */
  async giveBack (pass: RoomPass, log: FastifyBaseLogger): Promise<void> {
    await this.#store.restore(pass.productId, pass.buyerId, pass.expiresAt)
      .catch((err: unknown) => log.warn({ err, productId: pass.productId }, 'waiting room: a pass could not be given back'))
  }
}

const invalidPass = (reason: string): AppError => new AppError(403, ErrorCode.ROOM_PASS_INVALID, `waiting-room pass refused: ${reason}`)
