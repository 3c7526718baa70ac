import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import type { DeadLetter } from '@flash/common'
import {
  createStack, startProcessor, reserve, placedMessage, cancelMessage, waitForOrders, waitForStatus,
  waitForCaughtUp, sqlStock, productOrders, until, type Stack, settledSnapshot
} from './helper.ts'
import { createProduct } from '@flash/common/test-support'

// One processor on this file's own topic; each test creates its products, plays the gateway's part
// (reserve in Redis, then publish order.placed) and asserts the outcome in MySQL and Redis.

const stack: Stack = await createStack('processor')
const app = await startProcessor(stack)
t.teardown(async () => {
  await app.close()
  await stack.close()
})

const products: number[] = []
const published = [] as Parameters<Stack['publish']>[0]

async function publish (messages: typeof published): Promise<void> {
  published.push(...messages)
  await stack.publish(messages)
}

async function reserveAll (productId: number, quantities: number[], user = (i: number) => `user-${i}`) {
  const orders = []
  for (const [i, q] of quantities.entries()) {
    const order = await reserve(stack, productId, q, user(i))
    if (order === null) throw new Error('reservation refused')
    orders.push(order)
  }
  return orders
}

t.test('health, metrics and docs are served', async (t) => {
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok', checks: { mysql: 'ok', redis: 'ok', consumer: 'ok' } }, 'MySQL, Redis and the consumer group')
  const metrics = await app.inject({ url: '/metrics' })
  for (const name of ['processor_consumer_lag', 'processor_batch_size', 'processor_orders_confirmed_total', 'processor_orders_failed_total',
    'processor_units_compensated_total', 'processor_orders_cancelled_total', 'processor_dlq_messages_total']) {
    t.match(metrics.body, `# TYPE ${name} `, name)
  }
  t.equal((await app.inject({ url: '/docs/json' })).statusCode, 200)
})

t.test('a batch confirms orders, takes SQL stock per product and clears the ledger; Redis and MySQL agree', async (t) => {
  const a = (await createProduct(stack, { stock: 50 })).id
  const b = (await createProduct(stack, { stock: 30 })).id
  products.push(a, b)
  const ordersA = await reserveAll(a, [1, 2, 3, 1, 2, 3, 1, 2, 3, 1])
  const ordersB = await reserveAll(b, [2, 2, 2, 2, 2])
  await publish([...ordersA, ...ordersB])
  const rows = await waitForOrders(stack, [...ordersA, ...ordersB].map((o) => o.orderId))
  t.ok(rows.every((r) => r.status === 'confirmed' && r.reason === null), 'every order confirmed')
  const byId = new Map([...ordersA, ...ordersB].map((o) => [o.orderId, o]))
  t.ok(rows.every((r) => r.request_id === byId.get(r.id)?.requestId), 'request ids travel into MySQL')
  t.equal(await sqlStock(stack, a), 50 - 19)
  t.equal(await sqlStock(stack, b), 30 - 10)
  for (const id of [a, b]) {
    const snap = await settledSnapshot(stack, id)
    t.equal(snap.ledger.length, 0, `product ${id}: ledger cleared`)
    t.equal(snap.available, await sqlStock(stack, id), `product ${id}: Redis and MySQL agree`)
  }
})

t.test('when SQL stock is short, only the orders that do not fit fail, and their units return to Redis once', async (t) => {
  const id = (await createProduct(stack, { stock: 10 })).id
  products.push(id)
  // MySQL holds fewer units than Redis sells (e.g. a manual correction that skipped stock sync).
  await stack.mysql.execute('UPDATE products SET stock = 4 WHERE id = ?', [id])
  const orders = await reserveAll(id, [2, 2, 2, 2, 2])
  t.equal((await stack.store.snapshot(id)).available, 0, 'Redis sold everything')
  await publish(orders)
  const rows = await waitForOrders(stack, orders.map((o) => o.orderId))
  const confirmed = rows.filter((r) => r.status === 'confirmed')
  const failed = rows.filter((r) => r.status === 'failed')
  t.equal(confirmed.length, 2, 'the orders that fit are confirmed')
  t.equal(failed.length, 3)
  t.ok(failed.every((r) => r.reason === 'insufficient stock'), 'failed with the reason')
  t.equal(await sqlStock(stack, id), 0)
  const snap = await settledSnapshot(stack, id)
  t.equal(snap.ledger.length, 0)
  t.equal(snap.available, 6, 'the failed orders\' 6 units went back on sale once')
  for (const r of failed) t.equal(await stack.store.heldBy(id, r.user_id ?? ''), 0, 'the buyer no longer holds the failed units')
  for (const r of confirmed) t.equal(await stack.store.heldBy(id, r.user_id ?? ''), 2)
})

t.test('orders of an archived product fail and their units return', async (t) => {
  const id = (await createProduct(stack, { stock: 10 })).id
  products.push(id)
  const orders = await reserveAll(id, [1, 2, 3])
  await stack.mysql.execute("UPDATE products SET status = 'archived' WHERE id = ?", [id])
  await publish(orders)
  const rows = await waitForOrders(stack, orders.map((o) => o.orderId))
  t.ok(rows.every((r) => r.status === 'failed' && r.reason === 'product archived'), 'failed: product archived')
  t.equal(await sqlStock(stack, id), 10, 'no SQL stock taken')
  const snap = await settledSnapshot(stack, id)
  t.equal(snap.ledger.length, 0)
  t.equal(snap.available, 10, 'all 6 units back in Redis')
})

t.test('an order of a product MySQL does not know fails', async (t) => {
  const order = placedMessage(2_000_000_000 + Math.floor(Math.random() * 1_000_000), 1, 'ghost')
  await publish([order])
  const [row] = await waitForOrders(stack, [order.orderId])
  t.equal(row?.status, 'failed')
  t.equal(row?.reason, 'product not found')
})

t.test('a released reservation whose message arrives anyway fails and takes no stock', async (t) => {
  const id = (await createProduct(stack, { stock: 5 })).id
  products.push(id)
  const [order] = await reserveAll(id, [2])
  if (order === undefined) throw new Error('no order')
  // The gateway's publish timed out and it undid the reservation, but Kafka had the message after all.
  t.same(await stack.store.undo(id, order.orderId), { outcome: 'undone', units: 2 })
  await publish([order])
  const [row] = await waitForOrders(stack, [order.orderId])
  t.equal(row?.status, 'failed')
  t.equal(row?.reason, 'reservation released')
  t.equal(await sqlStock(stack, id), 5, 'no SQL stock taken')
  t.equal((await stack.store.snapshot(id)).available, 5, 'Redis not compensated twice')
  t.equal(await stack.store.heldBy(id, 'user-0'), 0)
})

t.test('a poison message goes to the DLQ with its reason and the orders after it are processed', async (t) => {
  const id = (await createProduct(stack, { stock: 5 })).id
  products.push(id)
  const [before] = await reserveAll(id, [1])
  const [after] = await reserveAll(id, [1])
  if (before === undefined || after === undefined) throw new Error('no order')
  const poison = [
    { key: before.orderId, value: 'this is not json' },
    { key: before.orderId, value: JSON.stringify({ type: 'order.shipped', orderId: before.orderId }) },
    { key: before.orderId, value: JSON.stringify({ ...placedMessage(id, 1, 'x'), quantity: 0 }) }
  ]
  // Same key: the poison sits on the same partition, between two good orders.
  await publish([before])
  await stack.publishRaw(poison)
  await publish([after])
  const rows = await waitForOrders(stack, [before.orderId, after.orderId])
  t.ok(rows.every((r) => r.status === 'confirmed'), 'the orders around the poison are confirmed')
  t.equal(await sqlStock(stack, id), 3)

  const consumer = stack.kafka.consumer({ groupId: `${stack.config.KAFKA_GROUP_ID}-dlq-reader`, maxWaitTimeInMs: 100 })
  t.teardown(() => consumer.disconnect())
  await consumer.connect()
  await consumer.subscribe({ topic: stack.config.KAFKA_DLQ_TOPIC, fromBeginning: true })
  const letters: DeadLetter[] = []
  void consumer.run({ eachMessage: async ({ message }) => { letters.push(JSON.parse(String(message.value)) as DeadLetter) } })
  await until(async () => letters.length >= 3, 30_000, 'three dead letters arrive')
  t.same(letters.map((l) => l.value), poison.map((p) => p.value), 'the original values, in order')
  t.match(letters.map((l) => l.reason), ['value is not JSON', /unknown message type "order.shipped"/, /invalid order.placed: \/quantity/])
  t.ok(letters.every((l) => l.key === before.orderId && l.topic === stack.config.KAFKA_ORDERS_TOPIC && /^\d+$/.test(l.offset)), 'key, topic and offset kept')
  const metrics = await app.inject({ url: '/metrics' })
  t.match(metrics.body, /processor_dlq_messages_total\{service="order-processor"\} [3-9]/)
})

t.test('a cancellation returns the units once, even when requested twice at once', async (t) => {
  const id = (await createProduct(stack, { stock: 10 })).id
  products.push(id)
  const [order] = await reserveAll(id, [3], () => 'canceller')
  if (order === undefined) throw new Error('no order')
  await publish([order])
  await waitForStatus(stack, order.orderId, 'confirmed')
  t.equal(await sqlStock(stack, id), 7)
  t.equal(await stack.store.heldBy(id, 'canceller'), 3)

  await Promise.all([publish([cancelMessage(id, order.orderId)]), publish([cancelMessage(id, order.orderId)])])
  await waitForStatus(stack, order.orderId, 'cancelled')
  await waitForCaughtUp(stack)
  const [row] = await productOrders(stack, id)
  t.equal(row?.reason, 'cancelled by customer')
  t.equal(await sqlStock(stack, id), 10, 'SQL stock +3 once')
  const snap = await stack.store.snapshot(id)
  t.equal(snap.available, 10, 'Redis stock +3 once')
  t.equal(snap.ledger.length, 0)
  t.equal(await stack.store.heldBy(id, 'canceller'), 0, 'the buyer\'s held units down once')

  // A cancellation of a failed order changes nothing.
  const [failedOrder] = await reserveAll(id, [1], () => 'late')
  if (failedOrder === undefined) throw new Error('no order')
  await stack.store.undo(id, failedOrder.orderId)
  await publish([failedOrder])
  await waitForStatus(stack, failedOrder.orderId, 'failed')
  await publish([cancelMessage(id, failedOrder.orderId)])
  await waitForCaughtUp(stack)
  t.equal((await productOrders(stack, id)).find((r) => r.id === failedOrder.orderId)?.status, 'failed')
  t.equal(await sqlStock(stack, id), 10)
  t.equal((await stack.store.snapshot(id)).available, 10)
})

t.test('messages replayed from offset 0 change nothing', async (t) => {
  await waitForCaughtUp(stack)
  const before = await state()
  // Re-produced duplicates into the running group ...
  await stack.publish(published)
  await waitForCaughtUp(stack)
  t.same(await state(), before, 're-produced messages: MySQL and Redis unchanged')
  // ... and a new consumer group reading the whole topic from the beginning.
  const groupId = `${stack.config.KAFKA_GROUP_ID}-replay`
  const replayer = await startProcessor(stack, { KAFKA_GROUP_ID: groupId })
  t.teardown(() => replayer.close())
  await waitForCaughtUp(stack, groupId)
  t.same(await state(), before, 'a full replay: MySQL and Redis unchanged')
})

async function state () {
  const out = []
  for (const id of products) {
    const [count] = await stack.mysql.query<RowDataPacket[]>('SELECT status, COUNT(*) AS n, SUM(quantity) AS units FROM orders WHERE product_id = ? GROUP BY status ORDER BY status', [id])
    const snap = await stack.store.snapshot(id)
    out.push({ id, sql: await sqlStock(stack, id), orders: count.map((r) => ({ ...r, n: Number(r.n), units: Number(r.units) })), redis: snap.available, ledger: snap.ledger.length })
  }
  return out
}
