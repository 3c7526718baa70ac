import t from 'tap'
import { ROOMS_KEY, RoomStore, productKeys } from '@flash/common'
import { testStack } from '@flash/common/test-support'
import type { RowDataPacket } from 'mysql2/promise'
import { admin, buildTestApp, postProduct } from './helper.ts'

// The catalog's side of the waiting room (docs/ARCHITECTURE.md §10): off unless asked for, shown in
// the product's API, stored in MySQL, and written to Redis (the room's switch and the `rooms` set)
// for the gateways.

const stack = testStack(t)
const app = await buildTestApp(t)
const rooms = new RoomStore(stack.redis)

const inRooms = async (id: number): Promise<boolean> => (await stack.redis.sismember(ROOMS_KEY, String(id))) === 1
const columns = async (id: number) => {
  const [rows] = await stack.mysql.query<RowDataPacket[]>('SELECT waiting_room, waiting_room_opens_seconds FROM products WHERE id = ?', [id])
  return { enabled: Number(rows[0]?.waiting_room), opens: Number(rows[0]?.waiting_room_opens_seconds) }
}
const patch = async (id: number, payload: object) => await app.inject({ method: 'PATCH', url: `/products/${id}`, headers: admin, payload })

t.test('a product has no waiting room unless asked for', async (t) => {
  const product = await postProduct(app)
  t.same(product.waitingRoom, { enabled: false, opensSecondsBefore: 3600 })
  t.same(await columns(product.id), { enabled: 0, opens: 3600 })
  t.notOk(await inRooms(product.id), 'not in the rooms set')
  t.equal(await stack.redis.exists(productKeys(product.id).room), 0, 'no room hash at all')
  t.same((await app.inject(`/products/${product.id}`)).json().waitingRoom, { enabled: false, opensSecondsBefore: 3600 })
})

t.test('created with a room: shown, stored, and written to Redis for the gateways', async (t) => {
  const product = await postProduct(app, { waitingRoom: { enabled: true, opensSecondsBefore: 600 } })
  t.teardown(() => rooms.configure(product.id, { enabled: false, opensSecondsBefore: 600 }))
  t.same(product.waitingRoom, { enabled: true, opensSecondsBefore: 600 })
  t.same(await columns(product.id), { enabled: 1, opens: 600 })
  t.ok(await inRooms(product.id), 'in the rooms set')
  t.same(await stack.redis.hmget(productKeys(product.id).room, 'enabled', 'opensBefore'), ['1', '600000'])
})

t.test('PATCH turns it on and off; an omitted opensSecondsBefore keeps its value', async (t) => {
  const product = await postProduct(app)
  t.teardown(() => rooms.configure(product.id, { enabled: false, opensSecondsBefore: 0 }))
  const on = await patch(product.id, { waitingRoom: { enabled: true, opensSecondsBefore: 120 } })
  t.equal(on.statusCode, 200)
  t.same(on.json().waitingRoom, { enabled: true, opensSecondsBefore: 120 })
  t.ok(await inRooms(product.id))
  t.same((await app.inject(`/products/${product.id}`)).json().waitingRoom, { enabled: true, opensSecondsBefore: 120 }, 'the read shows it (cache invalidated)')

  const off = await patch(product.id, { waitingRoom: { enabled: false } })
  t.same(off.json().waitingRoom, { enabled: false, opensSecondsBefore: 120 })
  t.notOk(await inRooms(product.id), 'out of the rooms set')
  t.equal(await stack.redis.hget(productKeys(product.id).room, 'enabled'), '0')
  t.same(await columns(product.id), { enabled: 0, opens: 120 })
})

t.test('bad room settings are 400 naming the field, and change nothing', async (t) => {
  const product = await postProduct(app)
  for (const waitingRoom of [{ enabled: 'yes' }, { opensSecondsBefore: 10 }, { enabled: true, opensSecondsBefore: -1 }, { enabled: true, extra: 1 }]) {
    const res = await patch(product.id, { waitingRoom })
    t.equal(res.statusCode, 400, JSON.stringify(waitingRoom))
    t.match(res.json().message, /waitingRoom/)
  }
  t.same(await columns(product.id), { enabled: 0, opens: 3600 })
  t.notOk(await inRooms(product.id))
})
