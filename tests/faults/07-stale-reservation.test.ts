import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { Partitioners } from 'kafkajs'
import { createKafka, createLogger, encodeMessage, MessageType, newOrderId, productKeys, REQUEST_ID_HEADER, SCHEMA_VERSION, type OrderPlaced } from '@flash/common'
import { prepareScenario, uniqueTag } from './support/stack.ts'
import { postProduct, reconcile, releaseStale } from './support/catalog.ts'
import { checkInvariants, waitForFinal } from './support/invariants.ts'

// Scenario 7: a gateway died between its reservation and its publish, leaving a reservation nobody
// will apply. Reconciliation finds it and, past the configured age, returns its units — and if the
// order does reach Kafka after all (the publish was only slow), the release's tombstone makes the
// processor fail it with reason 'reservation released' instead of selling the units a second time.
// A young reservation is left alone and, published, is confirmed as usual.

t.test('a stale reservation is released once, and its late order.placed fails instead of taking stock', async (t) => {
  const clients = await prepareScenario(t, [])
  const tag = uniqueTag('stale')
  const stock = 10
  const product = await postProduct(`fault ${tag}`, stock)
  const keys = productKeys(product.id)

  // The dead gateway's reservation, an hour old, and a live one made just now.
  const stale = { orderId: newOrderId(), quantity: 3, userId: `fault-${tag}-stale` }
  const young = { orderId: newOrderId(), quantity: 2, userId: `fault-${tag}-young` }
  t.match(await clients.store.reserve({ productId: product.id, ...stale, idempotencyTtlSeconds: 60, now: Date.now() - 3_600_000 }), { kind: 'reserved', unitsLeft: 7 })
  t.match(await clients.store.reserve({ productId: product.id, ...young, idempotencyTtlSeconds: 60 }), { kind: 'reserved', unitsLeft: 5 })

  const report = await reconcile()
  const found = report.staleReservations.filter((r) => r.productId === product.id)
  t.same(found.map((r) => r.orderId), [stale.orderId], 'reconcile lists the old reservation and not the young one')
  t.ok((found[0]?.ageSeconds ?? 0) >= 3500, 'with its age')

  const released = await releaseStale([product.id])
  t.same(released.released.filter((r) => r.productId === product.id).map((r) => [r.orderId, r.quantity]), [[stale.orderId, 3]], 'release-stale returns exactly the stale units')
  const again = await releaseStale([product.id])
  t.same(again.released.filter((r) => r.productId === product.id), [], 'a second release returns nothing')
  const afterRelease = await clients.store.snapshot(product.id)
  t.equal(afterRelease.available, 8, 'Redis: the 3 stale units are back on sale, the young 2 still reserved')
  t.same(afterRelease.ledger.map((e) => e.orderId), [young.orderId])
  t.equal(await clients.redis.exists(`${keys.voidPrefix}${stale.orderId}`), 1, 'the release left a tombstone')

  // Both orders reach Kafka after all, exactly as the gateway would have published them.
  const kafka = createKafka({ brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092', clientId: `faults-${tag}`, logger: createLogger('faults', 'warn') })
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const message = (o: typeof stale): OrderPlaced => ({
    type: MessageType.ORDER_PLACED, version: SCHEMA_VERSION, orderId: o.orderId, productId: product.id, quantity: o.quantity,
    userId: o.userId, requestId: `fault-${tag}`, createdAt: new Date().toISOString()
  })
  await producer.send({
    topic: process.env.KAFKA_ORDERS_TOPIC ?? 'orders',
    acks: -1,
    messages: [stale, young].map((o) => ({ key: o.orderId, value: encodeMessage(message(o)), headers: { [REQUEST_ID_HEADER]: `fault-${tag}` } }))
  })

  const { rows, missing } = await waitForFinal(clients, [stale.orderId, young.orderId], 60_000)
  t.same(missing, [], 'both orders reached a final state')
  t.match(rows.get(stale.orderId), { status: 'failed', reason: /reservation released/ }, 'the released order failed with its reason')
  t.match(rows.get(young.orderId), { status: 'confirmed' }, 'the young order was confirmed')
  const [[row]] = await clients.mysql.query<RowDataPacket[]>('SELECT stock FROM products WHERE id = ?', [product.id]) as unknown as [RowDataPacket[]]
  t.equal(Number(row?.stock), 8, 'MySQL: only the young order took stock')

  await checkInvariants(t, clients, {
    products: [{ id: product.id, putOnSale: stock }],
    sales: [],
    extraAccepted: new Map([[stale.orderId, { productId: product.id, quantity: 3 }], [young.orderId, { productId: product.id, quantity: 2 }]])
  })
  t.equal((await clients.store.snapshot(product.id)).available, 8, 'Redis and MySQL agree: 8 units, none counted twice')
})
