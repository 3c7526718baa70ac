import t from 'tap'
import { ErrorCode, RoomStore, productKeys, type AdmitLimits, type App } from '@flash/common'
import { createProduct, testStack, waitUntil } from '@flash/common/test-support'
import { pino } from 'pino'
import { asAdmin, asBuyer, buildTestApp, createTestTopic, post, testConfig } from './helper.ts'
import { RoomPacer } from '../src/room/pacer.ts'
import type { RoomRegistry } from '../src/room/registry.ts'
import { STEP, pauseRoom } from './support/paused-room.ts'

const silent = pino({ level: 'silent' })

// The waiting room's pacer on the real stack (docs/ARCHITECTURE.md §10): two pacers (as two gateways
// run them) tick, never more passes outstanding than the window or the units left, and the next buyers
// as passes are used. Each pacer here sees only this file's product (test gateways run none), so no
// other file's room is admitted from here; and this file's rooms are paused for every other pacer
// (the running gateway's admits with its own window of 20 whenever a tick here is 500 ms late, as on
// a loaded machine), so these two step with a negative interval. Plus the gateway's copy of which
// products have a room.

const stack = testStack(t)
const rooms = new RoomStore(stack.redis)
const topic = await createTestTopic(t)
const config = testConfig(topic, { ROOM_REFRESH_MS: '100' })
const gateways = [await buildTestApp(t, config), await buildTestApp(t, config)]

/** A room that only this file's pacers admit from. */
async function pausedRoom (productId: number): Promise<void> {
  await pauseRoom(stack.redis, productId)
  await rooms.configure(productId, { enabled: true, opensSecondsBefore: 0 })
  t.teardown(() => rooms.configure(productId, { enabled: false, opensSecondsBefore: 0 }))
}

/** Two pacers over one product, as two gateways would tick it; stopped when the test ends. */
function pacersFor (productId: number): void {
  const registry = { products: new Set([productId]) } as unknown as RoomRegistry
  const store = { tick: async (id: number, limits: AdmitLimits) => await rooms.tick(id, { ...limits, tickMs: STEP }) } as unknown as RoomStore
  for (let i = 0; i < 2; i++) {
    const pacer = new RoomPacer({ store, registry, log: silent, tickMs: 50, keepMs: 600_000, passMs: 120_000, minWindow: 3, windowSeconds: 0 })
    pacer.start()
    t.teardown(() => pacer.close())
  }
}

/** Generous: a loaded CI machine can stall a tick for seconds; a healthy run takes tens of ms. */
const WAIT_MS = 15_000

/** True once `n` buyers hold passes; otherwise throws what the room holds (the timeout reports it). */
async function admitted (productId: number, n: number): Promise<true> {
  const keys = productKeys(productId)
  const [count, room, queued] = await Promise.all([stack.redis.zcard(keys.roomAdmitted), stack.redis.hgetall(keys.room), stack.redis.zcard(keys.roomQueue)])
  if (count === n) return true
  throw new Error(`${count} admitted, ${queued} queued, room ${JSON.stringify(room)}`)
}

const status = async (app: App, productId: number, who: string) =>
  (await app.inject({ method: 'GET', url: `/rooms/${productId}/status`, headers: asBuyer(who) })).json()

t.test('two gateways admit within the window and the units left; used passes admit the next; sold out stops it', async (t) => {
  const product = await createProduct(stack, { stock: 6 })
  await pausedRoom(product.id)
  const who = Array.from({ length: 10 }, (_, i) => `pacer-${product.id}-${i}`)
  for (const [i, w] of who.entries()) {
    const res = await gateways[i % 2]!.inject({ method: 'POST', url: `/rooms/${product.id}/join`, headers: asBuyer(w) })
    t.equal(res.statusCode, 200)
  }
  const admittedNow = async (): Promise<string[]> => await stack.redis.zrange(productKeys(product.id).roomAdmitted, 0, -1)
  pacersFor(product.id)

  await waitUntil('the first three are admitted', () => admitted(product.id, 3), WAIT_MS, 20)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same((await admittedNow()).sort(), who.slice(0, 3).sort(), 'the window (3) holds across both gateways: the first three, no more')

  for (const w of who.slice(0, 3)) {
    const body = await status(gateways[1]!, product.id, w)
    t.equal(body.state, 'admitted')
    t.equal((await post(gateways[0]!, { productId: product.id, quantity: 1 }, { ...asBuyer(w), 'x-room-pass': body.pass })).statusCode, 202, 'an admitted buyer buys on any gateway')
  }
  await waitUntil('the next three are admitted', () => admitted(product.id, 3), WAIT_MS, 20)
  t.same((await admittedNow()).sort(), who.slice(3, 6).sort(), 'used passes made room for the next in line')
  for (const w of who.slice(3, 6)) {
    const body = await status(gateways[0]!, product.id, w)
    t.equal((await post(gateways[1]!, { productId: product.id, quantity: 1 }, { ...asBuyer(w), 'x-room-pass': body.pass })).statusCode, 202)
  }
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(await admittedNow(), [], 'sold out: nobody more is admitted')
  for (const w of who.slice(6)) {
    const body = await status(gateways[0]!, product.id, w)
    t.equal(body.state, 'sold-out', 'every waiting buyer hears it')
    t.equal(body.stock, 0)
  }
  const summary = (await gateways[0]!.inject({ url: `/rooms/${product.id}`, headers: asAdmin })).json()
  t.match(summary, { enabled: true, waiting: 4, holdingPass: 0, joined: 10, admitted: 6, bought: 6, freed: 0 }, 'the admin sees waiting, admitted, bought, left')
  t.equal((await gateways[0]!.inject({ url: `/rooms/${product.id}`, headers: asBuyer('nosy') })).statusCode, 403, 'buyers do not')
  const status0 = await status(gateways[0]!, product.id, who[9]!)
  t.equal(status0.position, 4, 'places kept while sold out (units that come back admit them)')
})

t.test('the status estimates the wait from the measured admission rate', async (t) => {
  const product = await createProduct(stack, { stock: 100 })
  await pausedRoom(product.id)
  const who = Array.from({ length: 8 }, (_, i) => `estimate-${product.id}-${i}`)
  for (const w of who) {
    const res = await gateways[0]!.inject({ method: 'POST', url: `/rooms/${product.id}/join`, headers: asBuyer(w) })
    t.equal(res.statusCode, 200, 'joined')
  }
  pacersFor(product.id)
  await waitUntil('three admitted', () => admitted(product.id, 3), WAIT_MS, 20)
  const body = await status(gateways[0]!, product.id, who[7]!)
  t.equal(body.state, 'waiting')
  t.equal(body.ahead, 4)
  t.ok(body.estimatedWaitSeconds === null || body.estimatedWaitSeconds > 0, `an estimate (${String(body.estimatedWaitSeconds)} s) once admissions were measured`)
  t.ok(Number(await stack.redis.hget(productKeys(product.id).room, 'rate')) > 0, 'the admission rate is measured in Redis')
})

t.test('a gateway learns that a product\'s room is on from the announcement, before its next re-read', async (t) => {
  const slow = await buildTestApp(t, testConfig(topic, { ROOM_REFRESH_MS: '60000' }))
  const product = await createProduct(stack, { stock: 1000 })
  await rooms.configure(product.id, { enabled: true, opensSecondsBefore: 0 })
  t.teardown(() => rooms.configure(product.id, { enabled: false, opensSecondsBefore: 0 }))
  await stack.store.setInfo(product.id, { status: 'active' })
  const refused = await waitUntil('the gateway refuses orders without a pass', async () => {
    const res = await post(slow, { productId: product.id, quantity: 1 }, asBuyer('announced'))
    return res.statusCode === 403 ? res : undefined
  }, WAIT_MS, 20)
  t.equal(refused.json().code, ErrorCode.ROOM_PASS_REQUIRED)
})
