import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { ErrorCode, newChangeToken, productKeys, sleep, type App } from '@flash/common'
import { createProduct, testStack } from '@flash/common/test-support'
import { createTestTopic, testConfig, buildTestApp, post } from './helper.ts'

// Sold out from memory (docs/ARCHITECTURE.md §4): once a gateway has been told a product is sold out
// it refuses without a Redis call, and every gateway forgets it the moment the stock scripts announce
// units coming back. Two gateway instances, the real Redis Cluster and its pub/sub.

const stack = testStack(t)
const topic = await createTestTopic(t)
// A TTL far beyond the test: only the announcement can make a gateway ask Redis again.
const config = testConfig(topic, { STOCK_MEMORY_TTL_MS: '60000' })

const refusedFromMemory = async (app: App): Promise<number> => {
  const text = (await app.inject('/metrics')).body
  return Number(/^orders_refused_from_memory_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0)
}

/** Every key of the product and its value, to prove a refusal changed nothing in Redis. */
async function redisState (productId: number): Promise<string> {
  const k = productKeys(productId)
  const values = await Promise.all([stack.redis.get(k.stock), stack.redis.hgetall(k.info), stack.redis.hgetall(k.users), stack.redis.hgetall(k.ledger), stack.redis.get(k.seq)])
  return createHash('sha256').update(JSON.stringify(values)).digest('hex')
}

async function soldOutEverywhere (t: Test, apps: App[], productId: number): Promise<void> {
  for (const app of apps) {
    const refused = await post(app, { productId, quantity: 1 })
    t.equal(refused.json().code, ErrorCode.INSUFFICIENT_STOCK, 'Redis says sold out')
  }
}

/** Polls one gateway until an order for the product is accepted; the ms it took, or null. */
async function firstAcceptedWithin (app: App, productId: number, limitMs: number): Promise<number | null> {
  const started = performance.now()
  while (performance.now() - started < limitMs) {
    const res = await post(app, { productId, quantity: 1 })
    if (res.statusCode === 202) return performance.now() - started
  }
  return null
}

const apps: App[] = []
t.before(async () => {
  apps.push(await buildTestApp(t, config), await buildTestApp(t, config))
  // Both instances must hear announcements before the tests rely on them.
  for (const app of apps) {
    for (let i = 0; !/^stock_memory_listening\{[^}]*\} 1$/m.test((await app.inject('/metrics')).body); i++) {
      if (i > 100) throw new Error('the gateway never subscribed to stock announcements')
      await sleep(50)
    }
  }
})

t.test('refusals of a sold-out product are answered from memory and change nothing in Redis', async (t) => {
  const product = await createProduct(stack, { stock: 1 })
  const [a] = apps as [App, App]
  t.equal((await post(a, { productId: product.id, quantity: 1 })).statusCode, 202, 'the one unit sold')
  await soldOutEverywhere(t, [a], product.id)
  const before = await redisState(product.id)
  const counted = await refusedFromMemory(a)
  const answers = await Promise.all(Array.from({ length: 100 }, (_v, i) =>
    post(a, { productId: product.id, quantity: 1 }, { 'idempotency-key': `memory-${product.id}-${i}` })))
  t.same(new Set(answers.map((r) => `${r.statusCode} ${r.json().code}`)), new Set(['409 INSUFFICIENT_STOCK']))
  t.equal(await refusedFromMemory(a) - counted, 100, 'all 100 refused from memory, without Redis')
  t.equal(await redisState(product.id), before, 'Redis unchanged: no ledger entry, no held count, no stock change')
  const idempotencyRecords = await Promise.all(answers.map((_r, i) => stack.redis.exists(`${productKeys(product.id).idemPrefix}memory-${product.id}-${i}`)))
  t.same(idempotencyRecords.filter((n) => n === 1), [], 'no idempotency record for a refused request')
  t.equal((await stack.store.snapshot(product.id)).available, 0)
})

t.test('cancellations put units back and the next order succeeds within 50 ms on each of two gateways', async (t) => {
  const product = await createProduct(stack, { stock: 2 })
  const [a, b] = apps as [App, App]
  const sold = [await post(a, { productId: product.id, quantity: 1 }), await post(b, { productId: product.id, quantity: 1 })]
  t.same(sold.map((r) => r.statusCode), [202, 202], 'both units sold')
  await soldOutEverywhere(t, [a, b], product.id)
  const memoryBefore = [await refusedFromMemory(a), await refusedFromMemory(b)]
  t.equal((await post(a, { productId: product.id, quantity: 1 })).statusCode, 409)
  t.equal((await post(b, { productId: product.id, quantity: 1 })).statusCode, 409)
  t.same([await refusedFromMemory(a), await refusedFromMemory(b)], memoryBefore.map((n) => n + 1), 'both gateways answer from memory')

  // What the processor does: confirm both orders, then cancel them (finish-change 'return').
  const orderIds = sold.map((r) => r.json().orderId as string)
  const confirm = newChangeToken('test-confirm')
  await stack.store.beginChange(product.id, confirm, orderIds)
  await stack.store.finishChange(product.id, confirm, orderIds.map((orderId) => ({ op: 'confirm' as const, orderId })))
  const cancel = newChangeToken('test-cancel')
  await stack.store.beginChange(product.id, cancel)
  await stack.store.finishChange(product.id, cancel, orderIds.map((orderId) => ({ op: 'return' as const, orderId, quantity: 1, userId: null })))
  t.equal((await stack.store.snapshot(product.id)).available, 2, 'two units back on sale')

  const [msA, msB] = await Promise.all([firstAcceptedWithin(a, product.id, 50), firstAcceptedWithin(b, product.id, 50)])
  t.ok(msA !== null, `gateway A sells again: its first order sent within 50 ms succeeded (${msA?.toFixed(1)} ms)`)
  t.ok(msB !== null, `gateway B sells again: its first order sent within 50 ms succeeded (${msB?.toFixed(1)} ms)`)
  t.equal((await stack.store.snapshot(product.id)).available, 0, 'each unit sold once')
})

t.test('each gateway forgets "sold out" when units come back: no refusal from memory after the announcement', async (t) => {
  const product = await createProduct(stack, { stock: 1 })
  const [a, b] = apps as [App, App]
  t.equal((await post(a, { productId: product.id, quantity: 1 })).statusCode, 202)
  await soldOutEverywhere(t, [a, b], product.id)
  // A restock as catalog-service applies it: units added under a registered change.
  const token = newChangeToken('test-restock')
  await stack.store.beginChange(product.id, token)
  await stack.store.finishChange(product.id, token, [{ op: 'add', quantity: 2 }])
  const started = performance.now()
  const [msA, msB] = await Promise.all([firstAcceptedWithin(a, product.id, 50), firstAcceptedWithin(b, product.id, 50)])
  t.ok(msA !== null, `gateway A accepts again after ${msA?.toFixed(1)} ms`)
  t.ok(msB !== null, `gateway B accepts again after ${msB?.toFixed(1)} ms`)
  t.ok(performance.now() - started < 1000, 'well inside the safety TTL: the announcement did it')
  t.equal((await stack.store.snapshot(product.id)).available, 0, 'both restocked units sold, once each')
})

t.test('a stock sync (archive, un-archive, sync-stock) is announced too', async (t) => {
  const product = await createProduct(stack, { stock: 1 })
  const [a] = apps as [App, App]
  t.equal((await post(a, { productId: product.id, quantity: 1 })).statusCode, 202)
  await soldOutEverywhere(t, [a], product.id)
  // MySQL says three more units exist (a restock by hand, then `make sync-stock`).
  const synced = await stack.store.sync(product.id, async () => ({ stock: 4, status: 'active', perUserLimit: null }))
  t.equal(synced.outcome, 'set')
  // The announcement travels on the subscriber's own connection, so it may land a moment after the
  // sync's reply: the bound is the I5 window, and with a 60 s TTL only the announcement can meet it.
  const ms = await firstAcceptedWithin(a, product.id, 50)
  t.ok(ms !== null, `the synced units sell within 50 ms (${ms?.toFixed(1)} ms)`)
  t.equal((await stack.store.snapshot(product.id)).available, 2, 'one of the three synced units sold, once')
})
