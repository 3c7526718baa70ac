import t from 'tap'
import { ErrorCode, RoomStore, solveProofOfWork, type App } from '@flash/common'
import { createProduct, testStack } from '@flash/common/test-support'
import { buildTestApp, createTestTopic, post, testConfig } from './helper.ts'
import { dumpProductState } from './support/sale-window.ts'
import { STEP, pauseRoom } from './support/paused-room.ts'

// Guests in a waiting room (docs/ARCHITECTURE.md §10): only where the product allows guests (no
// per-buyer limit), after a solved proof-of-work challenge used once; the guest is its signed ticket.

const BITS = 10
const stack = testStack(t)
const rooms = new RoomStore(stack.redis)
const topic = await createTestTopic(t)
const config = testConfig(topic, { ROOM_TICK_MS: '0', ROOM_REFRESH_MS: '100', ROOM_GUEST_POW_BITS: String(BITS) })
const app = await buildTestApp(t, config)

async function roomProduct (perUserLimit: number | null): Promise<number> {
  const product = await createProduct(stack, { stock: 10, perUserLimit })
  // Paused for every pacer (a running gateway's too): this file admits step by step.
  await pauseRoom(stack.redis, product.id)
  await rooms.configure(product.id, { enabled: true, opensSecondsBefore: 0 })
  t.teardown(() => rooms.configure(product.id, { enabled: false, opensSecondsBefore: 0 }))
  await new Promise((resolve) => setTimeout(resolve, 3 * config.ROOM_REFRESH_MS))
  return product.id
}

async function solved (on: App, productId: number) {
  const res = await on.inject(`/rooms/${productId}/challenge`)
  const { challenge, bits } = res.json() as { challenge: string, bits: number }
  return { challenge, nonce: solveProofOfWork(challenge, bits) }
}
const joinAsGuest = async (productId: number, body: unknown, headers: Record<string, string> = {}) =>
  await app.inject({ method: 'POST', url: `/rooms/${productId}/join`, headers, ...(body === undefined ? {} : { payload: body as object }) })

t.test('a guest joins with a solved challenge, polls and buys with its ticket and pass', async (t) => {
  const productId = await roomProduct(null)
  const proof = await solved(app, productId)
  const joined = await joinAsGuest(productId, { proof })
  t.equal(joined.statusCode, 200)
  const ticket = joined.json().guestTicket as string
  t.ok(ticket, 'the join answers a ticket')
  t.equal(joined.json().state, 'waiting')

  const reused = await joinAsGuest(productId, { proof })
  t.equal(reused.statusCode, 403, 'one solution, one place')
  t.equal(reused.json().code, ErrorCode.PROOF_OF_WORK_INVALID)
  const again = await joinAsGuest(productId, undefined, { 'x-room-ticket': ticket })
  t.equal(again.json().position, 1, 'the ticket finds the same place')

  await rooms.tick(productId, { tickMs: STEP, keepMs: 600_000, passMs: 120_000, window: 100, perTick: 10 })
  const status = (await app.inject({ url: `/rooms/${productId}/status`, headers: { 'x-room-ticket': ticket } })).json()
  t.equal(status.state, 'admitted')
  const withoutTicket = await post(app, { productId, quantity: 1 }, { 'x-room-pass': status.pass })
  t.equal(withoutTicket.statusCode, 401, 'a pass alone does not make a guest')
  const order = await post(app, { productId, quantity: 1 }, { 'x-room-pass': status.pass, 'x-room-ticket': ticket })
  t.equal(order.statusCode, 202, 'the guest buys')
  t.ok(order.json().receipt, 'a guest order, with its receipt')
})

t.test('no proof, a wrong one, another product\'s, or a product with a per-buyer limit: no place', async (t) => {
  const open = await roomProduct(null)
  const limited = await roomProduct(1)
  const before = await dumpProductState(stack, open)
  const none = await joinAsGuest(open, undefined)
  t.equal(none.json().code, ErrorCode.PROOF_OF_WORK_REQUIRED)
  const { challenge } = await solved(app, open)
  t.equal((await joinAsGuest(open, { proof: { challenge, nonce: 'x' } })).json().code, ErrorCode.PROOF_OF_WORK_INVALID)
  t.equal((await joinAsGuest(open, { proof: await solved(app, limited) })).json().code, ErrorCode.PROOF_OF_WORK_INVALID, 'a challenge is for one room')
  t.equal(await dumpProductState(stack, open), before, 'nothing written in the room')
  const refused = await joinAsGuest(limited, { proof: await solved(app, limited) })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, ErrorCode.SIGN_IN_REQUIRED)
  const forged = await app.inject({ url: `/rooms/${open}/status`, headers: { 'x-room-ticket': 'abc.def' } })
  t.equal(forged.statusCode, 401, 'a forged ticket')
})
