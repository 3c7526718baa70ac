import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RowDataPacket } from 'mysql2/promise'
import {
  createStack, startProcessor, reserve, waitForOrders, sqlStock, freePort, until,
  type Stack, settledSnapshot
} from './helper.ts'
import { createProduct } from '@flash/common/test-support'
import type { OrderPlaced } from '@flash/common'
import { PartitionAssigners } from 'kafkajs'
import { buildApp } from '../src/app.ts'

// Crashes and rebalances: the processor runs as a real process (node src/server.ts), is killed with
// SIGKILL in the middle of a stream of batches, and a new one takes over; or two instances share
// the partitions of one group. Every accepted order must end confirmed exactly once.

const server = fileURLToPath(new URL('../src/server.ts', import.meta.url))

async function spawnProcessor (stack: Stack, env: Record<string, string> = {}): Promise<{ child: ChildProcess, port: number }> {
  const port = await freePort()
  const child = spawn(process.execPath, [server], {
    env: {
      ...process.env,
      KAFKA_ORDERS_TOPIC: stack.config.KAFKA_ORDERS_TOPIC,
      KAFKA_DLQ_TOPIC: stack.config.KAFKA_DLQ_TOPIC,
      KAFKA_GROUP_ID: stack.config.KAFKA_GROUP_ID,
      PROCESSOR_HOST: '127.0.0.1',
      PROCESSOR_PORT: String(port),
      LOG_LEVEL: 'error',
      ...env
    },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`processor exited with ${child.exitCode}`)
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null)
    return res?.status === 200
  }, 30_000, 'the spawned processor is ready')
  return { child, port }
}

async function reserveMany (stack: Stack, productIds: number[], perProduct: number): Promise<OrderPlaced[]> {
  const orders = await Promise.all(productIds.flatMap((id) => Array.from({ length: perProduct }, (_, i) => reserve(stack, id, 1 + (i % 2), `user-${i}`))))
  if (orders.some((o) => o === null)) throw new Error('a reservation was refused')
  return orders as OrderPlaced[]
}

async function countRows (stack: Stack, productIds: number[]): Promise<number> {
  const [rows] = await stack.mysql.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM orders WHERE product_id IN (${productIds.map(() => '?').join(',')})`, productIds)
  return Number(rows[0]?.n)
}

async function assertSettled (t: Test, stack: Stack, productIds: number[], orders: OrderPlaced[], initial: number): Promise<void> {
  const rows = await waitForOrders(stack, orders.map((o) => o.orderId), 90_000)
  t.equal(rows.length, orders.length, 'every accepted order has one row')
  t.equal(await countRows(stack, productIds), orders.length, 'no other rows for these products')
  t.ok(rows.every((r) => r.status === 'confirmed'), 'every order confirmed')
  for (const id of productIds) {
    const units = orders.filter((o) => o.productId === id).reduce((s, o) => s + o.quantity, 0)
    t.equal(await sqlStock(stack, id), initial - units, `product ${id}: SQL stock taken once per order`)
    const snap = await settledSnapshot(stack, id)
    t.equal(snap.ledger.length, 0, `product ${id}: ledger empty`)
    t.equal(snap.available, initial - units, `product ${id}: Redis agrees with MySQL`)
  }
}

t.test('a processor killed with SIGKILL mid-stream and restarted confirms every order once', async (t) => {
  const stack = await createStack('crash')
  const children: ChildProcess[] = []
  t.teardown(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    await stack.close()
  })
  const initial = 5000
  const productIds = [(await createProduct(stack, { stock: initial })).id, (await createProduct(stack, { stock: initial })).id, (await createProduct(stack, { stock: initial })).id]
  const orders = await reserveMany(stack, productIds, 1000)

  // Small batches, one partition at a time: the first process is killed with work in flight.
  const slow = { PROCESSOR_MAX_BATCH: '50', PROCESSOR_PARTITIONS_CONCURRENTLY: '1' }
  const first = await spawnProcessor(stack, slow)
  children.push(first.child)
  const half = Math.floor(orders.length / 2)
  await stack.publish(orders.slice(0, half))
  await until(async () => await countRows(stack, productIds) >= 200, 60_000, 'the first batches land')
  first.child.kill('SIGKILL')
  const atKill = await countRows(stack, productIds)
  t.ok(atKill < orders.length, `killed with ${atKill} of ${orders.length} orders written`)
  await stack.publish(orders.slice(half))

  const second = await spawnProcessor(stack)
  children.push(second.child)
  await assertSettled(t, stack, productIds, orders, initial)
  second.child.kill('SIGTERM')
  await new Promise((resolve) => second.child.once('exit', resolve))
  t.equal(second.child.exitCode, 0, 'SIGTERM: a graceful exit')
})

t.test('two processor instances in one group confirm every order once, across the rebalance', async (t) => {
  const stack = await createStack('pair')
  const initial = 5000
  const productIds = [(await createProduct(stack, { stock: initial })).id, (await createProduct(stack, { stock: initial })).id]
  const apps: Array<Awaited<ReturnType<typeof startProcessor>>> = []
  t.teardown(async () => {
    for (const app of apps) await app.close()
    await stack.close()
  })
  const orders = await reserveMany(stack, productIds, 2000)
  apps.push(await startProcessor(stack))
  const half = Math.floor(orders.length / 2)
  await stack.publish(orders.slice(0, half))
  // The second instance joins while the first is working: the group rebalances under load.
  apps.push(await startProcessor(stack))
  await stack.publish(orders.slice(half))
  await assertSettled(t, stack, productIds, orders, initial)
  const confirmedBy = async (app: (typeof apps)[number]): Promise<number> => {
    const body = (await app.inject({ url: '/metrics' })).body
    return Number(/^processor_orders_confirmed_total\{[^}]*\} (\d+)/m.exec(body)?.[1] ?? 0)
  }
  const [a, b] = [await confirmedBy(apps[0]!), await confirmedBy(apps[1]!)]
  t.equal(a + b, orders.length, `confirmed once across both instances (${a} + ${b})`)
  t.ok(b > 0, 'the second instance took partitions over')
})

t.test('a crash kafkajs will not restart from (a non-retriable join error): the consumer restarts itself and confirms what waited', async (t) => {
  const stack = await createStack('restart', 1)
  // A member of the same group speaking another assignment protocol: the broker refuses our consumer's
  // join with INCONSISTENT_GROUP_PROTOCOL, which kafkajs calls non-retriable and does not restart from
  // (as it does not from "Failed to find group coordinator" after a broker restart).
  const foreign = stack.kafka.consumer({
    groupId: stack.config.KAFKA_GROUP_ID,
    partitionAssigners: [(config) => ({ ...PartitionAssigners.roundRobin(config), name: 'ForeignAssigner' })]
  })
  const started: { app?: Awaited<ReturnType<typeof buildApp>> } = {}
  t.teardown(async () => {
    await foreign.disconnect().catch(() => {})
    await started.app?.close()
    await stack.close()
  })
  await foreign.connect()
  await foreign.subscribe({ topic: stack.config.KAFKA_ORDERS_TOPIC })
  const foreignJoined = new Promise((resolve) => foreign.on(foreign.events.GROUP_JOIN, resolve))
  await foreign.run({ eachMessage: async () => {} })
  await foreignJoined

  const app = started.app = await buildApp({ ...stack.config, LOG_LEVEL: 'fatal' })
  await app.ready()
  await until(async () => !app.orderConsumer.state.running, 20_000, 'the refused consumer stops running')
  t.notOk(app.orderConsumer.state.joined, 'refused a place in the group while the other protocol holds it')
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 503, 'and is not ready meanwhile')

  // The other member leaves (it would have taken what was published meanwhile); an order arrives.
  await foreign.disconnect()
  const product = await createProduct(stack, { stock: 10 })
  const order = await reserve(stack, product.id, 2)
  if (order === null) throw new Error('the reservation was refused')
  await stack.publish([order])
  await until(async () => app.orderConsumer.state.joined, 60_000, 'the consumer restarted itself and joined')
  const [row] = await waitForOrders(stack, [order.orderId], 30_000)
  t.equal(row?.status, 'confirmed', 'the order that waited is confirmed')
  t.equal(await sqlStock(stack, product.id), 8, 'MySQL stock taken once')
  t.equal((await stack.store.snapshot(product.id)).available, 8, 'Redis agrees')
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200, 'ready again')
})
