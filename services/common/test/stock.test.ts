import t from 'tap'
import { createRedisCluster } from '../src/clients/redis.ts'
import { StockStore } from '../src/stock/store.ts'
import { newOrderId, newChangeToken } from '../src/contracts/ids.ts'
import { productKeys } from '../src/contracts/keys.ts'

// Real Redis Cluster from `make local`. Product ids far above the SQL auto-increment range keep these
// keys apart from products the services create.
const redis = createRedisCluster(process.env.REDIS_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003')
const store = new StockStore(redis)
t.teardown(() => redis.quit())

let nextId = 900_000_000 + Math.floor(Math.random() * 1_000_000) * 10
async function onSale (stock: number, perUserLimit: number | null = null): Promise<number> {
  const productId = nextId++
  const outcome = await store.sync(productId, async () => ({ stock, status: 'active', perUserLimit }))
  if (outcome.outcome !== 'set') throw new Error('could not put the product on sale')
  return productId
}
const reserve = (productId: number, quantity: number, extra: { userId?: string, key?: string } = {}) =>
  store.reserve({ productId, orderId: newOrderId(), quantity, userId: extra.userId ?? null, idempotencyKey: extra.key, fingerprint: extra.key ? `${productId}:${quantity}:${extra.userId ?? ''}` : undefined, idempotencyTtlSeconds: 60 })

t.test('concurrent reservations never sell more than the stock, and refuse only when units are short', async (t) => {
  const productId = await onSale(100)
  const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => reserve(productId, 1 + (i % 3))))
  const reserved = outcomes.filter((o) => o.kind === 'reserved').length
  const units = outcomes.reduce((sum, o, i) => sum + (o.kind === 'reserved' ? 1 + (i % 3) : 0), 0)
  t.ok(units <= 100 && units >= 98, `units reserved ${units}`)
  for (const o of outcomes) if (o.kind === 'insufficient-stock') t.ok(o.unitsLeft < 3, 'refused only when fewer units remain than asked')
  const snap = await store.snapshot(productId)
  t.equal(snap.available, 100 - units)
  t.equal(snap.ledger.length, reserved)
  t.equal(snap.pending, units)
})

t.test('an idempotency key answers the first reservation and detects a different body', async (t) => {
  const productId = await onSale(10)
  const first = await reserve(productId, 2, { key: 'k1', userId: 'u1' })
  t.equal(first.kind, 'reserved')
  const again = await reserve(productId, 2, { key: 'k1', userId: 'u1' })
  t.equal(again.kind, 'duplicate')
  const other = await reserve(productId, 3, { key: 'k1', userId: 'u1' })
  t.equal(other.kind, 'key-reused')
  t.equal((await store.snapshot(productId)).available, 8)
})

t.test('the per-user limit counts units across orders', async (t) => {
  const productId = await onSale(100, 3)
  t.equal((await reserve(productId, 2, { userId: 'alice' })).kind, 'reserved')
  const refused = await reserve(productId, 2, { userId: 'alice' })
  t.same(refused, { kind: 'per-user-limit', remaining: 1 })
  t.equal((await reserve(productId, 1, { userId: 'alice' })).kind, 'reserved')
  t.equal(await store.heldBy(productId, 'alice'), 3)
})

t.test('undo returns units once and leaves a tombstone the processor sees as void', async (t) => {
  const productId = await onSale(5)
  const orderId = newOrderId()
  await store.reserve({ productId, orderId, quantity: 2, userId: 'u', idempotencyTtlSeconds: 60 })
  t.same(await store.undo(productId, orderId), { outcome: 'undone', units: 2 })
  t.same(await store.undo(productId, orderId), { outcome: 'absent' }, 'a second undo returns nothing')
  t.equal((await store.snapshot(productId)).available, 5)
  t.same(await store.beginChange(productId, newChangeToken('test'), [orderId]), ['void'])
})

t.test('a processor change claims, confirms and compensates exactly once', async (t) => {
  const productId = await onSale(10)
  const ok = newOrderId()
  const bad = newOrderId()
  await store.reserve({ productId, orderId: ok, quantity: 3, userId: 'a', idempotencyTtlSeconds: 60 })
  await store.reserve({ productId, orderId: bad, quantity: 4, userId: 'b', idempotencyTtlSeconds: 60 })
  const token = newChangeToken('test')
  t.same(await store.beginChange(productId, token, [ok, bad, newOrderId()]), ['live', 'live', 'unknown'])
  t.equal(await store.releaseStale(productId, ok, Date.now() + 1000), 0, 'a claimed reservation is never stale')
  t.same(await store.undo(productId, ok), { outcome: 'claimed' }, 'nor undone: its order reached Kafka')
  const ops = [{ op: 'confirm', orderId: ok }, { op: 'fail', orderId: bad }] as const
  t.same(await store.finishChange(productId, token, [...ops]), { compensated: 4, returned: 0, added: 0 })
  t.same(await store.finishChange(productId, token, [...ops]), { compensated: 0, returned: 0, added: 0 }, 'replay changes nothing')
  const snap = await store.snapshot(productId)
  t.equal(snap.available, 7)
  t.equal(snap.ledger.length, 0)
  t.equal(await store.heldBy(productId, 'b'), 0)
  const cancel = [{ op: 'return', orderId: ok, quantity: 3, userId: 'a' }] as const
  t.same(await store.finishChange(productId, newChangeToken('test'), [...cancel]), { compensated: 0, returned: 3, added: 0 })
  t.same(await store.finishChange(productId, newChangeToken('test'), [...cancel]), { compensated: 0, returned: 0, added: 0 })
  t.equal((await store.snapshot(productId)).available, 10)
})

t.test('sync computes MySQL stock minus pending and refuses while a change is in flight', async (t) => {
  const productId = await onSale(10)
  await reserve(productId, 4)
  const synced = await store.sync(productId, async () => ({ stock: 10, status: 'active', perUserLimit: null }))
  t.match(synced, { outcome: 'set', after: 6, pending: 4 })
  const token = newChangeToken('test')
  await store.beginChange(productId, token)
  t.same(await store.sync(productId, async () => ({ stock: 10, status: 'active', perUserLimit: null }), { attempts: 2 }), { outcome: 'busy' })
  await store.finishChange(productId, token, [])
  // MySQL moved between the seq read and the script: the script refuses and sync reads again.
  let reads = 0
  const moved = await store.sync(productId, async () => {
    reads++
    if (reads === 1) await redis.incr(productKeys(productId).seq)
    return { stock: 10, status: 'active', perUserLimit: null }
  })
  t.equal(reads, 2)
  t.match(moved, { outcome: 'set', after: 6 })
})

t.test('stale reservations are released after their age, with a tombstone', async (t) => {
  const productId = await onSale(3)
  const orderId = newOrderId()
  await store.reserve({ productId, orderId, quantity: 1, userId: null, idempotencyTtlSeconds: 60, now: Date.now() - 10_000 })
  t.equal(await store.releaseStale(productId, orderId, Date.now() - 20_000), 0, 'younger than the cutoff: kept')
  t.equal(await store.releaseStale(productId, orderId, Date.now() - 5_000), 1)
  t.equal((await store.snapshot(productId)).available, 3)
})

t.test('archived products are not on sale', async (t) => {
  const productId = await onSale(3)
  await store.setInfo(productId, { status: 'archived' })
  t.same(await reserve(productId, 1), { kind: 'not-on-sale' })
})

t.test('a restock finish replayed with the same token adds its units once', async (t) => {
  const productId = await onSale(5)
  const token = newChangeToken('test')
  await store.beginChange(productId, token)
  t.same(await store.finishChange(productId, token, [{ op: 'add', quantity: 4 }]), { compensated: 0, returned: 0, added: 4 })
  t.same(await store.finishChange(productId, token, [{ op: 'add', quantity: 4 }]), { compensated: 0, returned: 0, added: 0 })
  t.equal((await store.snapshot(productId)).available, 9)
})

t.test('changing status or limit moves seq, so an in-flight sync cannot write the old status back', async (t) => {
  const productId = await onSale(5)
  let archivedMeanwhile = false
  const outcome = await store.sync(productId, async () => {
    const status = archivedMeanwhile ? 'archived' : 'active'
    if (!archivedMeanwhile) { archivedMeanwhile = true; await store.setInfo(productId, { status: 'archived' }) }
    return { stock: 5, status, perUserLimit: null }
  })
  t.match(outcome, { outcome: 'set' })
  t.equal((await store.snapshot(productId)).status, 'archived')
})
