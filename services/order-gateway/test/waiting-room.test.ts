import t from 'tap'
import { randomUUID } from 'node:crypto'
import { ErrorCode, RoomStore, createRoomPasses, productKeys, sleep, type App } from '@flash/common'
import { createProduct, testStack, waitUntil } from '@flash/common/test-support'
import { AUTH_JWT_SECRET, asBuyer, buildTestApp, createTestTopic, post, testConfig } from './helper.ts'
import { dumpProductState, redisNow, setWindow } from './support/sale-window.ts'
import { STEP, pauseRoom } from './support/paused-room.ts'

// The waiting room on the real stack (docs/ARCHITECTURE.md §10). This file's gateways run no pacer
// (ROOM_TICK_MS=0): the test admits with the same script the pacer calls, one step at a time, so it
// sees the order of admission exactly. waiting-room-pacer.test.ts runs the pacer itself.

const stack = testStack(t)
const rooms = new RoomStore(stack.redis)
const topic = await createTestTopic(t)
const config = testConfig(topic, { ROOM_TICK_MS: '0', ROOM_REFRESH_MS: '100' })
const app = await buildTestApp(t, config)
const passes = createRoomPasses(AUTH_JWT_SECRET)

const buyer = (label: string): string => `room-${label}-${randomUUID().slice(0, 8)}`
const join = async (on: App, productId: number, who: string) => await on.inject({ method: 'POST', url: `/rooms/${productId}/join`, headers: asBuyer(who) })
const status = async (on: App, productId: number, who: string) => await on.inject({ method: 'GET', url: `/rooms/${productId}/status`, headers: asBuyer(who) })
const order = async (productId: number, who: string, pass?: string, quantity = 1) =>
  await post(app, { productId, quantity }, { ...asBuyer(who), ...(pass === undefined ? {} : { 'x-room-pass': pass }) })

/** One admission step as the pacer takes it, with no pace limit: who was admitted, in order. */
async function admit (productId: number, perTick: number, keepMs = 600_000): Promise<string[]> {
  const outcome = await rooms.tick(productId, { tickMs: STEP, keepMs, passMs: 120_000, window: 1_000_000, perTick })
  if (outcome.kind !== 'tick') throw new Error(`tick: ${outcome.kind}`)
  return outcome.admitted
}

/** A product whose room is on, known to the gateway (its registry re-reads every 100 ms). */
async function roomProduct (spec: { stock: number, perUserLimit?: number | null }, opensSecondsBefore = 3600): Promise<number> {
  const product = await createProduct(stack, spec)
  // Paused for every pacer (a running gateway's too): this file admits step by step.
  await pauseRoom(stack.redis, product.id)
  await rooms.configure(product.id, { enabled: true, opensSecondsBefore })
  t.teardown(() => rooms.configure(product.id, { enabled: false, opensSecondsBefore }))
  // A probe order would buy a unit until the gateway knows: wait out three of its re-reads instead.
  await sleep(3 * config.ROOM_REFRESH_MS)
  return product.id
}

/** Spearman's rank correlation of two permutations of 0..n-1. */
function spearman (a: number[], b: number[]): number {
  const n = a.length
  let d2 = 0
  for (let i = 0; i < n; i++) d2 += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2
  return 1 - 6 * d2 / (n * (n * n - 1))
}

t.test('a product without a room: join is 404 ROOM_NOT_FOUND and orders need no pass', async (t) => {
  const product = await createProduct(stack, { stock: 5 })
  const res = await join(app, product.id, buyer('no-room'))
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, ErrorCode.ROOM_NOT_FOUND)
  t.equal((await status(app, product.id, buyer('no-room'))).json().code, ErrorCode.ROOM_NOT_FOUND)
  t.equal((await order(product.id, buyer('no-room'))).statusCode, 202, 'ordered as before')
})

t.test('pre-start arrivals are admitted shuffled, later arrivals strictly in arrival order', async (t) => {
  const early = 240
  const late = 30
  const productId = await roomProduct({ stock: early + late + 10 })
  const startsAt = await redisNow(stack.redis, productId) + 8000
  await setWindow(stack, productId, { startsAt, endsAt: null })

  const earlyBuyers = Array.from({ length: early }, (_, i) => `early-${productId}-${i}`)
  for (const who of earlyBuyers) t.equal((await join(app, productId, who)).statusCode, 200)
  t.ok(await redisNow(stack.redis, productId) < startsAt, 'every early buyer joined before the start')
  t.same(await admit(productId, 10), [], 'nobody is admitted before the start')

  await waitUntil('the sale starts', async () => await redisNow(stack.redis, productId) >= startsAt || undefined, 10_000, 50)
  const lateBuyers = Array.from({ length: late }, (_, i) => `late-${productId}-${i}`)
  for (const who of lateBuyers) t.equal((await join(app, productId, who)).statusCode, 200)

  const admitted: string[] = []
  for (let step = 0; step < early + late; step++) admitted.push(...await admit(productId, 1))
  t.equal(admitted.length, early + late, 'everyone admitted, one per step')
  t.same(new Set(admitted.slice(0, early)), new Set(earlyBuyers), 'every early buyer before every late one')
  t.same(admitted.slice(early), lateBuyers, 'late buyers exactly in arrival order')

  const arrival = admitted.slice(0, early).map((who) => earlyBuyers.indexOf(who))
  const rho = spearman(arrival, arrival.map((_, i) => i))
  // Under independence rho is about normal with sd 1/sqrt(n-1) (0.065 here): |rho| < 0.26 is 4 sd.
  t.ok(Math.abs(rho) < 0.26, `admission order uncorrelated with arrival (Spearman rho ${rho.toFixed(3)})`)
  const firstTenth = arrival.slice(0, early / 10)
  t.ok(firstTenth.some((i) => i >= early / 2), 'someone from the second half of arrivals is among the first tenth admitted')
})

t.test('re-joining keeps the place; a gateway restarted mid-queue loses none', async (t) => {
  const productId = await roomProduct({ stock: 10 })
  const who = Array.from({ length: 5 }, (_, i) => `keep-${productId}-${i}`)
  for (const w of who) await join(app, productId, w)
  const again = await join(app, productId, who[2] ?? '')
  t.equal(again.json().position, 3, 'joining again answers the same place')
  t.equal(again.json().waiting, 5, 'and takes no second one')

  const other = await buildTestApp(t, config)
  const positions = await Promise.all(who.map(async (w) => (await status(other, productId, w)).json().position))
  t.same(positions, [1, 2, 3, 4, 5], 'another gateway (a restart) sees every place')
  await other.close()
  const body = (await status(app, productId, who[0] ?? '')).json()
  t.equal(body.state, 'waiting')
  t.equal(body.pollAfterMs, config.ROOM_POLL_MS, 'pollAfter as configured')
  t.equal(body.stock, 10, 'live stock in every poll')
})

t.test('no order without a valid pass while the room is on; refusals write nothing', async (t) => {
  const productId = await roomProduct({ stock: 10 })
  const alice = buyer('alice')
  const bob = buyer('bob')
  await join(app, productId, alice)
  await join(app, productId, bob)
  t.same(await admit(productId, 1), [alice])
  const pass = (await status(app, productId, alice)).json().pass as string
  t.ok(pass, 'the admitted buyer\'s status carries the pass')
  t.equal((await status(app, productId, alice)).json().state, 'admitted')

  const before = await dumpProductState(stack, productId)
  const expired = passes.issue({ productId, buyerId: alice, expiresAt: Date.now() - 1 })
  const forged = `${Buffer.from(JSON.stringify({ p: productId, b: bob, e: Date.now() + 60_000 })).toString('base64url')}.${pass.split('.')[1] ?? ''}`
  const otherProduct = passes.issue({ productId: productId + 1_000_000, buyerId: alice, expiresAt: Date.now() + 60_000 })
  const cases: Array<[string, string, string | undefined, number, string]> = [
    ['no pass', alice, undefined, 403, ErrorCode.ROOM_PASS_REQUIRED],
    ['another buyer\'s pass', bob, pass, 403, ErrorCode.ROOM_PASS_INVALID],
    ['a forged pass', bob, forged, 403, ErrorCode.ROOM_PASS_INVALID],
    ['an expired pass', alice, expired, 403, ErrorCode.ROOM_PASS_INVALID],
    ['another product\'s pass', alice, otherProduct, 403, ErrorCode.ROOM_PASS_INVALID],
    ['a pass signed by a stranger', alice, createRoomPasses('x'.repeat(40)).issue({ productId, buyerId: alice, expiresAt: Date.now() + 60_000 }), 403, ErrorCode.ROOM_PASS_INVALID]
  ]
  for (const [what, who, p, code, errorCode] of cases) {
    const res = await order(productId, who, p)
    t.equal(res.statusCode, code, what)
    t.equal(res.json().code, errorCode, what)
  }
  const guest = await post(app, { productId, quantity: 1 }, {})
  t.equal(guest.statusCode, 401, 'a guest cannot order a room product')
  t.equal(guest.json().code, ErrorCode.SIGN_IN_REQUIRED)
  t.equal(await dumpProductState(stack, productId), before, 'Redis and MySQL unchanged by every refusal')

  t.equal((await order(productId, alice, pass)).statusCode, 202, 'the pass buys once')
  const afterFirst = await dumpProductState(stack, productId)
  const reused = await order(productId, alice, pass)
  t.equal(reused.statusCode, 403, 'a used pass is refused')
  t.equal(reused.json().code, ErrorCode.ROOM_PASS_INVALID)
  t.equal(await dumpProductState(stack, productId), afterFirst, 'the reuse wrote nothing')
  t.equal((await status(app, productId, alice)).json().state, 'none', 'the pass is gone from the room')
})

t.test('the per-buyer limit holds across re-joins and passes; a refused order gives the pass back', async (t) => {
  const productId = await roomProduct({ stock: 10, perUserLimit: 1 })
  const carol = buyer('carol')
  await join(app, productId, carol)
  await admit(productId, 5)
  const first = (await status(app, productId, carol)).json().pass as string
  t.equal((await order(productId, carol, first)).statusCode, 202)
  const rejoined = await join(app, productId, carol)
  t.equal(rejoined.json().state, 'waiting', 'after buying, joining again takes a new place')
  await admit(productId, 5)
  const second = (await status(app, productId, carol)).json().pass as string
  t.not(second, first, 'a new pass')
  const refused = await order(productId, carol, second)
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, ErrorCode.PER_USER_LIMIT, 'the limit still holds')
  t.equal(await stack.store.heldBy(productId, carol), 1, 'one unit held')
  const after = (await status(app, productId, carol)).json()
  t.equal(after.state, 'admitted', 'the refused order gave the pass back')
  t.equal(after.pass, second)
})

t.test('abandoned places are freed after the keep time, and the freed count shows', async (t) => {
  const productId = await roomProduct({ stock: 10 })
  const gone = buyer('gone')
  const stays = buyer('stays')
  await join(app, productId, gone)
  await join(app, productId, stays)
  await sleep(1200)
  await status(app, productId, stays)
  t.same(await admit(productId, 0, 1000), [], 'a tick that admits nobody still frees')
  t.equal((await status(app, productId, gone)).json().state, 'none', 'the abandoned place is gone')
  const kept = (await status(app, productId, stays)).json()
  t.equal(kept.position, 1, 'the buyer who polled moved up')
  t.equal(kept.freed, 1, 'the freed count shows')
  t.equal(await stack.redis.zcard(productKeys(productId).roomSeen), 1)
})

t.test('sold out tells everyone and admits nobody; units coming back admit the next in line', async (t) => {
  const productId = await roomProduct({ stock: 2 })
  const who = Array.from({ length: 5 }, (_, i) => `sold-${productId}-${i}`)
  for (const w of who) await join(app, productId, w)
  t.same(await admit(productId, 10), who.slice(0, 2), 'admits no more than the units left')
  t.same(await admit(productId, 10), [], 'outstanding passes count against the units')
  for (const w of who.slice(0, 2)) {
    const pass = (await status(app, productId, w)).json().pass as string
    t.equal((await order(productId, w, pass)).statusCode, 202)
  }
  for (const w of who.slice(2)) {
    const body = (await status(app, productId, w)).json()
    t.equal(body.state, 'sold-out', 'every waiting buyer hears it at the next poll')
    t.equal(body.stock, 0)
    t.equal(body.estimatedWaitSeconds, null)
  }
  t.same(await admit(productId, 10), [], 'nobody admitted while sold out')

  const token = randomUUID()
  await stack.store.beginChange(productId, token)
  await stack.store.finishChange(productId, token, [{ op: 'add', quantity: 1 }])
  t.same(await admit(productId, 10), [who[2]], 'a unit back admits exactly the next in line')
  t.equal((await status(app, productId, who[2] ?? '')).json().state, 'admitted')
  t.equal((await status(app, productId, who[3] ?? '')).json().position, 1, 'the rest keep their places')
})

t.test('joining is refused before the room opens; a guest needs proof of work', async (t) => {
  const productId = await roomProduct({ stock: 5 }, 60)
  const startsAt = await redisNow(stack.redis, productId) + 3_600_000
  await setWindow(stack, productId, { startsAt, endsAt: null })
  const res = await join(app, productId, buyer('too-early'))
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, ErrorCode.ROOM_NOT_OPEN)
  t.equal(res.json().opensAt, new Date(startsAt - 60_000).toISOString())
  const guest = await app.inject({ method: 'POST', url: `/rooms/${productId}/join` })
  t.equal(guest.statusCode, 403, 'a guest without proof of work')
  t.equal(guest.json().code, ErrorCode.PROOF_OF_WORK_REQUIRED)
  t.equal(await stack.redis.zcard(productKeys(productId).roomQueue), 0, 'nobody queued')
})
