import t, { type Test } from 'tap'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { createMysqlPool, type StockStore } from '@flash/common'
import { applyOrderBatch } from '../src/batch.ts'
import { ordersRepository, type OrdersRepository } from '../src/orders/repository.ts'
import {
  createStack, startProcessor, reserve, waitForOrders, orderRows, sqlStock, freePort, until, type Stack, settledSnapshot
} from './helper.ts'
import { createProduct } from '@flash/common/test-support'

// Transient failures: a batch whose MySQL or Redis work fails is rolled back and applied again after
// a backoff; its offsets are not committed meanwhile, so no accepted order is skipped (I2) and none
// takes stock twice (I3).

async function reserveOrders (stack: Stack, productId: number, count: number) {
  const orders = []
  for (let i = 0; i < count; i++) {
    const order = await reserve(stack, productId, 1, `user-${i}`)
    if (order === null) throw new Error('reservation refused')
    orders.push(order)
  }
  return orders
}

async function metric (app: { inject: (o: { url: string }) => Promise<{ body: string }> }, name: string): Promise<number> {
  const body = (await app.inject({ url: '/metrics' })).body
  let total = 0
  for (const match of body.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))) total += Number(match[1])
  return total
}

async function assertApplied (t: Test, stack: Stack, productId: number, orderIds: string[], initial: number): Promise<void> {
  const rows = await waitForOrders(stack, orderIds)
  t.ok(rows.every((r) => r.status === 'confirmed'), 'every order confirmed')
  t.equal(await sqlStock(stack, productId), initial - orderIds.length, 'SQL stock taken once')
  const snap = await settledSnapshot(stack, productId)
  t.equal(snap.ledger.length, 0, 'ledger empty')
  t.equal(snap.available, initial - orderIds.length, 'Redis agrees with MySQL')
}

t.test('a batch that hits a lost MySQL connection after taking stock is rolled back and retried', async (t) => {
  const stack = await createStack('retry-inject')
  let failures = 0
  // The connection drops after the guarded UPDATE ran and before the orders were inserted: the
  // rollback must undo the stock taken, or the retry would take it a second time.
  const flaky: OrdersRepository = {
    ...ordersRepository,
    insertOrders: async (conn, orders) => {
      if (failures === 0) {
        failures++
        throw Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' })
      }
      return await ordersRepository.insertOrders(conn, orders)
    }
  }
  const app = await startProcessor(stack, {}, { repository: flaky })
  t.teardown(async () => { await app.close(); await stack.close() })
  const productId = (await createProduct(stack, { stock: 20 })).id
  const orders = await reserveOrders(stack, productId, 5)
  await stack.publish(orders)
  await assertApplied(t, stack, productId, orders.map((o) => o.orderId), 20)
  t.equal(failures, 1, 'the failure happened')
  t.ok(await metric(app, 'processor_batch_retries_total') >= 1, 'the retry is counted')
})

t.test('MySQL unreachable: the processor holds the batch and applies it when MySQL is back', async (t) => {
  const stack = await createStack('retry-outage')
  // A TCP proxy in front of MySQL that the test switches off and on: the processor sees ECONNREFUSED.
  const port = await freePort()
  const sockets = new Set<Socket>()
  let proxy: Server | null = null
  const proxyUp = async () => {
    proxy = createServer((client) => {
      const upstream = connect(stack.config.MYSQL_PORT, stack.config.MYSQL_HOST)
      for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}) }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => proxy?.listen(port, '127.0.0.1', resolve))
  }
  const pool = createMysqlPool({ ...stack.config, MYSQL_PORT: port }, { connectionLimit: 4, connectTimeout: 1000 })
  await proxyUp()
  const app = await startProcessor(stack, {}, { pool })
  t.teardown(async () => {
    await app.close()
    await pool.end().catch(() => {})
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => proxy ? proxy.close(resolve) : resolve(undefined))
    await stack.close()
  })
  const productId = (await createProduct(stack, { stock: 20 })).id

  // MySQL goes away (listener closed, open connections cut). The listener's close completes only once
  // its connections are gone, so they are cut before it is awaited (a pooled connection kept busy by
  // the processor would otherwise hold it open for good).
  const closed = new Promise((resolve) => proxy?.close(resolve))
  proxy = null
  for (const s of sockets) s.destroy()
  await closed
  const orders = await reserveOrders(stack, productId, 6)
  await stack.publish(orders)
  await until(async () => await metric(app, 'processor_batch_retries_total') >= 2, 30_000, 'the processor retries')
  t.equal((await orderRows(stack, orders.map((o) => o.orderId))).length, 0, 'nothing written while MySQL is down')
  t.equal((await stack.store.snapshot(productId)).ledger.length, 6, 'the reservations stay in the ledger')
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 503, 'not ready without MySQL')

  await proxyUp()
  await assertApplied(t, stack, productId, orders.map((o) => o.orderId), 20)
})

t.test('a crash between COMMIT and the Redis effects is repaired by applying the batch again', async (t) => {
  const stack = await createStack('retry-redis', 1)
  t.teardown(() => stack.close())
  const productId = (await createProduct(stack, { stock: 10 })).id
  await stack.mysql.execute('UPDATE products SET stock = 3 WHERE id = ?', [productId])
  const orders = await reserveOrders(stack, productId, 5)
  // finishChange fails once, as if Redis went away (or the process died) right after COMMIT.
  let broken = true
  const stock = {
    beginChange: (...args: Parameters<StockStore['beginChange']>) => stack.store.beginChange(...args),
    finishChange: async (...args: Parameters<StockStore['finishChange']>) => {
      if (broken) { broken = false; throw new Error('CLUSTERDOWN The cluster is down') }
      return await stack.store.finishChange(...args)
    }
  } as unknown as StockStore
  const tokens = new Map<number, string>()
  await t.rejects(applyOrderBatch({ pool: stack.mysql, stock }, orders, tokens), /CLUSTERDOWN/)
  const rows = await orderRows(stack, orders.map((o) => o.orderId))
  t.equal(rows.filter((r) => r.status === 'confirmed').length, 3, 'MySQL committed')
  t.equal((await stack.store.snapshot(productId)).ledger.length, 5, 'Redis not settled yet')

  const retry = await applyOrderBatch({ pool: stack.mysql, stock }, orders, tokens)
  t.match(retry, { confirmed: 0, replayed: 5, compensatedUnits: 2 })
  const again = await applyOrderBatch({ pool: stack.mysql, stock }, orders)
  t.match(again, { confirmed: 0, replayed: 5, compensatedUnits: 0 }, 'a third application changes nothing')
  t.equal(await sqlStock(stack, productId), 0)
  const snap = await stack.store.snapshot(productId)
  t.equal(snap.ledger.length, 0)
  t.equal(snap.available, 10 - 5 + 2, 'the two failed orders\' units returned once')
})
