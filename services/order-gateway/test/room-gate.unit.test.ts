import t from 'tap'
import { ErrorCode, AppError, createRoomPasses, type RoomStore } from '@flash/common'
import { RoomGate } from '../src/room/gate.ts'
import type { RoomRegistry } from '../src/room/registry.ts'

// The order path's refusals for a product whose waiting room is on, decided in memory: a store that
// throws on any use proves that no refusal asks Redis.

const secret = 'gate-test-secret-0123456789abcdef012345'
const passes = createRoomPasses(secret)
const registry = { has: (id: number) => id === 7 } as unknown as RoomRegistry
const untouchable = new Proxy({}, { get: () => { throw new Error('the store was used') } }) as RoomStore
const gate = new RoomGate({ registry, store: untouchable, passes })
const buyer = { kind: 'buyer' as const, buyerId: '42', username: 'x' }
const now = 1_000_000

const refusal = (fn: () => unknown): { status: number, code: string } | undefined => {
  try { fn() } catch (err) { if (err instanceof AppError) return { status: err.statusCode, code: err.code } }
  return undefined
}

t.test('a product without a room needs no pass', async (t) => {
  t.equal(gate.passFor(8, buyer, undefined, now), undefined)
  t.equal(gate.passFor(8, { kind: 'guest' }, 'junk', now), undefined)
})

t.test('every refusal is decided without the store', async (t) => {
  t.same(refusal(() => gate.passFor(7, { kind: 'guest' }, undefined, now)), { status: 401, code: ErrorCode.SIGN_IN_REQUIRED })
  t.same(refusal(() => gate.passFor(7, buyer, undefined, now)), { status: 403, code: ErrorCode.ROOM_PASS_REQUIRED })
  const cases = {
    forged: 'eyJwIjo3fQ.AAAA',
    expired: passes.issue({ productId: 7, buyerId: '42', expiresAt: now }),
    'another buyer\'s': passes.issue({ productId: 7, buyerId: '43', expiresAt: now + 1000 }),
    'another product\'s': passes.issue({ productId: 8, buyerId: '42', expiresAt: now + 1000 }),
    'another secret\'s': createRoomPasses('y'.repeat(40)).issue({ productId: 7, buyerId: '42', expiresAt: now + 1000 })
  }
  for (const [what, pass] of Object.entries(cases)) {
    t.same(refusal(() => gate.passFor(7, buyer, pass, now)), { status: 403, code: ErrorCode.ROOM_PASS_INVALID }, what)
  }
  t.same(gate.passFor(7, buyer, passes.issue({ productId: 7, buyerId: '42', expiresAt: now + 1000 }), now),
    { productId: 7, buyerId: '42', expiresAt: now + 1000 }, 'a valid pass goes on to the reservation')
})
