import t from 'tap'
import { ErrorCode, sleep } from '@flash/common'
import { createProduct, testStack } from '@flash/common/test-support'
import { createTestTopic, testConfig, buildTestApp, TopicReader, post, asBuyer } from './helper.ts'
import { dumpProductState, redisNow, setWindow } from './support/sale-window.ts'

// A product's sale window, judged by reserve.lua against Redis's clock. A refused order —
// before the start, after the end — writes nothing anywhere (Redis, MySQL, Kafka).

const stack = testStack(t)
const topic = await createTestTopic(t)
const app = await buildTestApp(t, testConfig(topic))
const reader = await new TopicReader(topic).start(t)

/** Pub/sub delivers an announcement within milliseconds, not synchronously: ask until it is heard (bounded). */
async function postUntil (body: object, buyer: string, done: (code: string | undefined) => boolean) {
  const deadline = Date.now() + 2000
  for (;;) {
    const res = await post(app, body, asBuyer(buyer))
    if (done(res.json().code) || Date.now() > deadline) return res
    await sleep(20)
  }
}

const metric = async (name: string): Promise<number> => {
  const line = (await app.inject('/metrics')).body.split('\n').find((l) => l.startsWith(name))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

/** Orders of every shape: with and without a buyer, an Idempotency-Key, several units. */
const attempts = (productId: number, label: string): Array<{ body: object, headers: Record<string, string> }> => [
  { body: { productId, quantity: 1 }, headers: asBuyer(`${label}-a`) },
  { body: { productId, quantity: 3 }, headers: { ...asBuyer(`${label}-b`), 'idempotency-key': `${label}-key-1` } },
  { body: { productId, quantity: 1 }, headers: { 'idempotency-key': `${label}-key-2` } },
  { body: { productId, quantity: 2 }, headers: {} }
]

t.test('before the start: 409 SALE_NOT_STARTED with the start time, and nothing written', async (t) => {
  const product = await createProduct(stack, { stock: 20, perUserLimit: 5 })
  const startsAt = await redisNow(stack.redis, product.id) + 3_600_000
  await setWindow(stack, product.id, { startsAt, endsAt: startsAt + 60_000 })
  const label = `early-${product.id}`
  const before = await dumpProductState(stack, product.id)

  for (const attempt of [...attempts(product.id, label), ...attempts(product.id, label)]) {
    const res = await post(app, attempt.body, attempt.headers)
    t.equal(res.statusCode, 409)
    t.equal(res.json().code, ErrorCode.SALE_NOT_STARTED)
    t.equal(res.json().saleStartsAt, new Date(startsAt).toISOString(), 'the answer carries the start')
  }

  t.equal(await dumpProductState(stack, product.id), before, 'Redis keys and MySQL rows byte-for-byte unchanged')
  await sleep(300)
  t.equal(reader.received.filter((r) => r.message.productId === product.id).length, 0, 'nothing published')
})

t.test('after the end: 409 SALE_ENDED with the end time, and nothing written', async (t) => {
  const product = await createProduct(stack, { stock: 20 })
  const now = await redisNow(stack.redis, product.id)
  await setWindow(stack, product.id, { startsAt: now - 60_000, endsAt: now - 1 })
  const label = `late-${product.id}`
  const before = await dumpProductState(stack, product.id)

  for (const attempt of attempts(product.id, label)) {
    const res = await post(app, attempt.body, attempt.headers)
    t.equal(res.statusCode, 409)
    t.equal(res.json().code, ErrorCode.SALE_ENDED)
    t.equal(res.json().saleEndsAt, new Date(now - 1).toISOString())
  }
  t.equal(await dumpProductState(stack, product.id), before, 'Redis keys and MySQL rows byte-for-byte unchanged')
  await sleep(300)
  t.equal(reader.received.filter((r) => r.message.productId === product.id).length, 0, 'nothing published')
})

t.test('inside the window: sold as usual, the ledger entry stamped with Redis\'s clock', async (t) => {
  const product = await createProduct(stack, { stock: 5 })
  const now = await redisNow(stack.redis, product.id)
  await setWindow(stack, product.id, { startsAt: now - 1000, endsAt: now + 60_000 })
  const res = await post(app, { productId: product.id, quantity: 2 }, asBuyer('inside'))
  t.equal(res.statusCode, 202)
  const snap = await stack.store.snapshot(product.id)
  t.equal(snap.available, 3)
  const entry = snap.ledger[0]
  t.ok(entry !== undefined && entry.reservedAt >= now && entry.reservedAt <= await redisNow(stack.redis, product.id), 'reservedAt is Redis TIME')
})

t.test('moving the start during the wait is honoured, both ways', async (t) => {
  const product = await createProduct(stack, { stock: 4 })
  const now = await redisNow(stack.redis, product.id)
  await setWindow(stack, product.id, { startsAt: now + 3_600_000, endsAt: null })
  const early = await post(app, { productId: product.id, quantity: 1 }, asBuyer('mover-1'))
  t.equal(early.json().code, ErrorCode.SALE_NOT_STARTED)

  // The gateway now answers from memory: no Redis call per request before the start.
  // (An announcement for any product while the script ran — the shared stack has many — means the
  // answer is not kept; the next refusal is. So ask a few times.)
  let fromMemory = 0
  let again = early
  for (let i = 0; i < 20 && fromMemory === 0; i++) {
    const before = await metric('orders_refused_from_memory_total')
    again = await post(app, { productId: product.id, quantity: 1 }, asBuyer('mover-1'))
    fromMemory = await metric('orders_refused_from_memory_total') - before
  }
  t.equal(again.json().code, ErrorCode.SALE_NOT_STARTED)
  t.equal(again.json().saleStartsAt, early.json().saleStartsAt, 'the remembered answer carries the start too')
  t.equal(fromMemory, 1, 'answered from memory')

  // Brought forward to now: the announcement makes the gateway forget, and the next order is taken.
  const opened = await redisNow(stack.redis, product.id)
  await setWindow(stack, product.id, { startsAt: opened, endsAt: null })
  const taken = await postUntil({ productId: product.id, quantity: 1 }, 'mover-2', (code) => code !== ErrorCode.SALE_NOT_STARTED)
  t.equal(taken.statusCode, 202, 'on sale at the moved start')

  // Pushed back again: refused again, with the new start.
  const later = await redisNow(stack.redis, product.id) + 7_200_000
  await setWindow(stack, product.id, { startsAt: later, endsAt: null })
  const refused = await postUntil({ productId: product.id, quantity: 1 }, 'mover-3', (code) => code === ErrorCode.SALE_NOT_STARTED)
  t.equal(refused.json().code, ErrorCode.SALE_NOT_STARTED)
  t.equal(refused.json().saleStartsAt, new Date(later).toISOString())

  // An end brought forward closes the sale at once.
  await setWindow(stack, product.id, { startsAt: null, endsAt: await redisNow(stack.redis, product.id) })
  const closed = await postUntil({ productId: product.id, quantity: 1 }, 'mover-4', (code) => code === ErrorCode.SALE_ENDED)
  t.equal(closed.json().code, ErrorCode.SALE_ENDED)

  const snap = await stack.store.snapshot(product.id)
  t.equal(snap.available, 3, 'exactly one unit sold')
  t.same(snap.ledger.map((e) => e.userId), ['mover-2'])
})
