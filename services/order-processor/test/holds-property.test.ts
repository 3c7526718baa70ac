import t from 'tap'
import fc from 'fast-check'
import type { RowDataPacket } from 'mysql2/promise'
import { MessageType, SCHEMA_VERSION, productKeys, type OrderMessage, type OrderPlaced } from '@flash/common'
import { openStack, createProduct } from '@flash/common/test-support'
import { applyOrderBatch } from '../src/batch.ts'
import { cancelMessage } from './helper.ts'

// Property-based test of payment holds through the real batch (MySQL and Redis, no Kafka): random
// sequences of batches of order.placed, order.paid (the right amount or not), order.expire-due (before
// or after the deadline) and cancellations, each batch sometimes delivered twice. An in-memory model
// says what each order must be; after every batch:
//   - every order's MySQL status equals the model's (a payment and an expiry: whichever the partition
//     delivered first decides; the other changes nothing);
//   - I6: MySQL stock + held + paid = units put on sale, Redis available = units put on sale − units of
//     reservations not yet placed − held − paid, and each buyer's count is what they hold or paid for;
//   - a replayed batch changes nothing (I3, I7).

const stack = openStack(process.env)
t.teardown(() => stack.close())

const PRICE = 300
const WINDOW_S = 100
type Status = 'reserved' | 'awaiting_payment' | 'paid' | 'expired' | 'cancelled'
interface Order { placed: OrderPlaced, status: Status }
interface World { productId: number, stock: number, orders: Order[], now: number }

type Step =
  | { kind: 'place', pick: number }
  | { kind: 'pay', pick: number, rightAmount: boolean }
  | { kind: 'expire', pick: number, late: boolean }
  | { kind: 'cancel', pick: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('place' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('place' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('pay' as const), pick: fc.nat(), rightAmount: fc.boolean() }),
  fc.record({ kind: fc.constant('expire' as const), pick: fc.nat(), late: fc.boolean() }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() })
)

async function freshWorld (stock: number, buyers: number[]): Promise<World> {
  const product = await createProduct(stack, { stock, price: PRICE, paymentWindowSeconds: WINDOW_S })
  const orders: Order[] = []
  const createdAt = new Date().toISOString()
  for (const [i, q] of buyers.entries()) {
    const orderId = (await import('@flash/common')).newOrderId()
    const userId = `u${i % 3}`
    const outcome = await stack.store.reserve({ productId: product.id, orderId, quantity: q, userId, idempotencyTtlSeconds: 60 })
    if (outcome.kind !== 'reserved') continue
    orders.push({
      status: 'reserved',
      placed: { type: MessageType.ORDER_PLACED, version: SCHEMA_VERSION, orderId, productId: product.id, quantity: q, userId, requestId: `prop-${i}`, createdAt }
    })
  }
  return { productId: product.id, stock, orders, now: Date.parse(createdAt) }
}

/** The messages of one step, and what it does to the model (applied in the batch's order). */
/** `late`: whether the batch's clock is past every deadline (one clock per batch). */
function messagesOf (world: World, s: Step, late: () => boolean): { message: OrderMessage, apply: () => void, late?: boolean } | null {
  const order = world.orders[s.pick % Math.max(world.orders.length, 1)]
  if (order === undefined) return null
  const { orderId, productId, quantity } = order.placed
  switch (s.kind) {
    case 'place':
      return { message: order.placed, apply: () => { if (order.status === 'reserved') order.status = 'awaiting_payment' } }
    case 'pay': {
      if (order.status === 'reserved') return null // a payment exists only for a written order
      const amount = s.rightAmount ? PRICE * quantity : PRICE * quantity + 1
      return {
        message: { type: MessageType.ORDER_PAID, version: SCHEMA_VERSION, orderId, productId, paymentId: `pi_${orderId}`, amount, currency: 'cny', requestId: 'prop', paidAt: new Date().toISOString() },
        apply: () => { if (order.status === 'awaiting_payment' && s.rightAmount) order.status = 'paid' }
      }
    }
    case 'expire':
      if (order.status === 'reserved') return null
      return {
        message: { type: MessageType.ORDER_EXPIRE_DUE, version: SCHEMA_VERSION, orderId, productId, requestId: 'prop', payBy: new Date(Date.parse(order.placed.createdAt) + WINDOW_S * 1000).toISOString() },
        apply: () => { if (order.status === 'awaiting_payment' && late()) order.status = 'expired' },
        late: s.late
      }
    case 'cancel':
      if (order.status === 'reserved') return null
      return { message: cancelMessage(productId, orderId), apply: () => { if (order.status === 'awaiting_payment' || order.status === 'paid') order.status = 'cancelled' } }
  }
}

async function check (world: World): Promise<void> {
  const ids = world.orders.map((o) => o.placed.orderId)
  const [rows] = await stack.mysql.query<RowDataPacket[]>('SELECT id, status FROM orders WHERE id IN (?)', [ids])
  const sql = new Map(rows.map((r) => [String(r.id), String(r.status)]))
  for (const o of world.orders) {
    const expected = o.status === 'reserved' ? undefined : o.status
    if (sql.get(o.placed.orderId) !== expected) throw new Error(`order ${o.placed.orderId}: MySQL ${sql.get(o.placed.orderId)}, model ${expected}`)
  }
  const units = (statuses: Status[]): number => world.orders.filter((o) => statuses.includes(o.status)).reduce((n, o) => n + o.placed.quantity, 0)
  const [[product]] = await stack.mysql.query<RowDataPacket[]>('SELECT stock FROM products WHERE id = ?', [world.productId]) as unknown as [RowDataPacket[]]
  const taken = units(['awaiting_payment', 'paid'])
  if (Number(product?.stock) + taken !== world.stock) throw new Error(`I6 MySQL: stock ${product?.stock} + held/paid ${taken} != ${world.stock}`)
  const snapshot = await stack.store.snapshot(world.productId)
  const redisExpected = world.stock - taken - units(['reserved'])
  if (snapshot.available !== redisExpected) throw new Error(`I6 Redis: available ${snapshot.available}, expected ${redisExpected}`)
  const users = await stack.redis.hgetall(productKeys(world.productId).users)
  for (const user of ['u0', 'u1', 'u2']) {
    const holds = world.orders.filter((o) => o.placed.userId === user && ['reserved', 'awaiting_payment', 'paid'].includes(o.status)).reduce((n, o) => n + o.placed.quantity, 0)
    if (Number(users[user] ?? 0) !== holds) throw new Error(`${user} holds ${users[user] ?? 0} in Redis, the model says ${holds}`)
  }
}

t.test('random batches of placements, payments, expiries and cancellations keep every order\'s outcome single and units conserved', async (t) => {
  let runs = 0
  let batches = 0
  const outcomes = new Map<Status, number>()
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }),
    fc.array(fc.tuple(fc.array(step, { minLength: 1, maxLength: 4 }), fc.boolean()), { minLength: 1, maxLength: 10 }),
    async (stock, buyers, plan) => {
      const world = await freshWorld(stock, buyers)
      for (const [steps, replay] of plan) {
        // One clock per batch, just before or just after every deadline (the first expiry step decides).
        let late = false
        const picked = steps.map((s) => messagesOf(world, s, () => late)).filter((m) => m !== null)
        if (picked.length === 0) continue
        late = picked.find((p) => p.late !== undefined)?.late ?? false
        const now = world.now + (late ? WINDOW_S * 1000 + 1 : WINDOW_S * 1000 - 1)
        // The batch applies placements first, then the changes in partition order.
        const ordered = [...picked.filter((p) => p.message.type === MessageType.ORDER_PLACED), ...picked.filter((p) => p.message.type !== MessageType.ORDER_PLACED)]
        const messages = ordered.map((p) => p.message)
        const deliver = async (): Promise<void> => { await applyOrderBatch({ pool: stack.mysql, stock: stack.store, now: () => now }, messages) }
        await deliver()
        for (const p of ordered) p.apply()
        await check(world)
        if (replay) {
          await deliver()
          await check(world)
        }
        batches++
      }
      for (const o of world.orders) outcomes.set(o.status, (outcomes.get(o.status) ?? 0) + 1)
      runs++
    }), { numRuns: Number(process.env.PROPERTY_RUNS ?? 60), interruptAfterTimeLimit: 90_000 })
  t.ok(runs > 0, `${runs} random runs, ${batches} batches: MySQL, Redis and the model agreed after each`)
  for (const status of ['paid', 'expired', 'cancelled'] as const) t.ok((outcomes.get(status) ?? 0) > 0, `some orders ended ${status} (${outcomes.get(status) ?? 0})`)
})
