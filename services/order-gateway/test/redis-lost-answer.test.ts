import t from 'tap'
import { createRedisCluster, ErrorCode } from '@flash/common'
import { createProduct, startTestApp, testStack, waitUntil } from '@flash/common/test-support'
import { buildApp } from '../src/app.ts'
import { createTestTopic, testConfig, tombstoneExists, post, asBuyer } from './helper.ts'

// Redis fails while a reservation's script runs: the script ran, its answer never came back (a master
// killed mid-call does this). The buyer is answered 503, and the units must not stay held until the
// catalog's stale release: the gateway releases them itself, and the buyer's retry with the same
// Idempotency-Key is then served.

const stack = testStack(t)
const topic = await createTestTopic(t)

t.test('a reservation whose answer was lost is released by the gateway; the retry with the same key gets its order', async (t) => {
  const config = testConfig(topic)
  const redis = createRedisCluster(config.REDIS_NODES)
  t.teardown(() => redis.quit())
  // The next reservation script call runs on Redis, then its answer is lost (by sha, or by source
  // the first time a node sees the script).
  let loseNext = false
  const loseAnswer = (call: (...args: unknown[]) => Promise<unknown>) => async (...args: unknown[]) => {
    const result = await call(...args)
    if (loseNext && args.some((a) => String(a).includes('lost-answer-buyer'))) {
      loseNext = false
      throw new Error('Connection is closed.')
    }
    return result
  }
  Object.assign(redis, {
    evalsha: loseAnswer(redis.evalsha.bind(redis) as (...args: unknown[]) => Promise<unknown>),
    eval: loseAnswer(redis.eval.bind(redis) as (...args: unknown[]) => Promise<unknown>)
  })
  const app = await startTestApp(t, () => buildApp(config, { redis }))
  const product = await createProduct(stack, { stock: 10 })
  const body = { productId: product.id, quantity: 3 }
  const headers = { 'idempotency-key': `lost-${product.id}`, ...asBuyer('lost-answer-buyer') }

  loseNext = true
  const refused = await post(app, body, headers)
  t.equal(refused.statusCode, 503, 'the buyer is told to retry')
  t.match(refused.json(), { code: ErrorCode.SERVICE_UNAVAILABLE })
  t.equal(loseNext, false, 'the script ran and its answer was lost')

  const released = await waitUntil('the lost reservation released', async () => {
    const snap = await stack.store.snapshot(product.id)
    return snap.ledger.length === 0 ? snap : undefined
  }, 10_000, 100)
  t.equal(released.available, 10, 'its units are back on sale within seconds, not at stale release')
  t.equal(await stack.store.heldBy(product.id, 'lost-answer-buyer'), 0, 'the buyer holds nothing')
  t.equal(await stack.store.idempotencyRecord(product.id, headers['idempotency-key']), null, 'the key is free again')
  const tombstones = (await Promise.all(stack.redis.nodes('master').map((node) => node.keys(`{product:${product.id}}:void:*`)))).flat()
  t.equal(tombstones.length, 1, 'a tombstone marks the released order')
  t.ok(await tombstoneExists(stack, product.id, tombstones[0]?.split(':void:')[1] ?? ''), 'a late message for it would fail')

  const retried = await post(app, body, headers)
  t.equal(retried.statusCode, 202, 'the retry with the same key is served')
  const snap = await stack.store.snapshot(product.id)
  t.equal(snap.available, 7, 'three units reserved once')
  t.equal(snap.ledger.length, 1, 'one reservation: the retry\'s')
  t.equal(await stack.store.heldBy(product.id, 'lost-answer-buyer'), 3)
})
