import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { newChangeToken, newOrderId, productKeys, sleep } from '@flash/common'
import type { ResultSetHeader } from 'mysql2/promise'
import type { SyncRow } from '../src/schemas.ts'
import { testStack, type TestStack } from '@flash/common/test-support'
import { admin, buildTestApp, postProduct, mysqlProduct, reserve } from './helper.ts'

const run = promisify(execFile)
const serviceDir = fileURLToPath(new URL('..', import.meta.url))

async function syncVia (app: Awaited<ReturnType<typeof buildTestApp>>, productIds: number[]): Promise<SyncRow[]> {
  const res = await app.inject({ method: 'POST', url: '/admin/stock/sync', headers: admin, payload: { productIds } })
  if (res.statusCode !== 200) throw new Error(`sync answered ${res.statusCode} ${res.body}`)
  return res.json().products
}

/**
 * The order-processor's batch, as docs/ARCHITECTURE.md §4 step 5 has it: claim the reservations, apply them to
 * MySQL with one guarded UPDATE, commit, then confirm them in Redis. The pauses widen the windows in
 * which a sync could read a MySQL figure that disagrees with the ledger.
 */
async function applyBatch (s: TestStack, productId: number, maxOrders: number): Promise<{ units: number, guardHeld: boolean }> {
  const snapshot = await s.store.snapshot(productId)
  const batch = snapshot.ledger.filter((e) => !e.claimed).slice(0, maxOrders)
  if (batch.length === 0) return { units: 0, guardHeld: true }
  const token = newChangeToken('test-processor')
  const states = await s.store.beginChange(productId, token, batch.map((e) => e.orderId))
  const live = batch.filter((_, i) => states[i] === 'live')
  const units = live.reduce((sum, e) => sum + e.quantity, 0)
  await sleep(2)
  const [result] = await s.mysql.query<ResultSetHeader>('UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?', [units, productId, units])
  await sleep(2)
  await s.store.finishChange(productId, token, live.map((e) => ({ op: 'confirm' as const, orderId: e.orderId })))
  return { units, guardHeld: result.affectedRows === 1 }
}

t.test('sync puts a product on sale that lacks Redis stock, and corrects drift by MySQL − pending', async (t) => {
  const app = await buildTestApp(t)
  const { mysql, redis, store } = testStack(t)
  const product = await postProduct(app, { stock: 20 })
  const keys = productKeys(product.id)
  await redis.del(keys.stock)
  t.same(await reserve(store, product.id, 1), { kind: 'not-on-sale' }, 'without Redis stock nothing sells')
  t.equal((await app.inject(`/products/${product.id}`)).json().stock, 20, 'reads fall back to MySQL stock')
  t.match(await syncVia(app, [product.id]), [{ productId: product.id, mysqlStock: 20, pending: 0, before: null, after: 20, outcome: 'set' }])
  t.equal(await redis.get(keys.stock), '20')

  t.equal((await reserve(store, product.id, 3)).kind, 'reserved')
  await redis.set(keys.stock, '50') // drift: somebody wrote a wrong figure
  t.match(await syncVia(app, [product.id]), [{ mysqlStock: 20, pending: 3, before: 50, after: 17, outcome: 'set' }])
  t.equal(await redis.get(keys.stock), '17', '20 in MySQL − 3 reserved, not 20')
  t.equal((await mysqlProduct(mysql, product.id))?.stock, 20)
  t.match(await syncVia(app, [product.id]), [{ before: 17, after: 17, outcome: 'unchanged' }])
  t.match((await app.inject('/metrics')).body, /catalog_stock_syncs_total\{[^}]*outcome="unchanged"[^}]*\} [1-9]/)

  const unknown = await app.inject({ method: 'POST', url: '/admin/stock/sync', headers: admin, payload: { productIds: [product.id, 999999999999] } })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.json(), { code: 'PRODUCT_NOT_FOUND', productIds: [999999999999] })
})

t.test('sync carries an archived product\'s status to Redis, and a sync with no body covers every product', async (t) => {
  const app = await buildTestApp(t)
  const { redis, store } = testStack(t)
  const product = await postProduct(app, { stock: 4, perUserLimit: 3 })
  await app.inject({ method: 'DELETE', url: `/products/${product.id}`, headers: admin })
  await redis.del(productKeys(product.id).info) // the status was lost (e.g. a Redis failover)
  const res = await app.inject({ method: 'POST', url: '/admin/stock/sync', headers: admin })
  t.equal(res.statusCode, 200)
  const row = (res.json().products as SyncRow[]).find((r) => r.productId === product.id)
  t.match(row, { mysqlStock: 4, after: 4 }, 'archived products are synced too')
  t.same(await redis.hgetall(productKeys(product.id).info), { status: 'archived', limit: '3' })
  t.same(await reserve(store, product.id, 1), { kind: 'not-on-sale' })
})

t.test('the seed\'s blind SET oversells; our sync does not', async (t) => {
  const app = await buildTestApp(t)
  const { redis, store } = testStack(t)
  // Ten units, all reserved by buyers whose orders the processor has not applied yet.
  const naive = await postProduct(app, { stock: 10 })
  const ours = await postProduct(app, { stock: 10 })
  for (const id of [naive.id, ours.id]) {
    const sold = await Promise.all(Array.from({ length: 10 }, () => reserve(store, id, 1)))
    t.ok(sold.every((o) => o.kind === 'reserved'))
  }
  // The seed: SET stock = MySQL stock (10), and ten more buyers get units that do not exist.
  await redis.set(productKeys(naive.id).stock, '10')
  const oversold = await Promise.all(Array.from({ length: 10 }, () => reserve(store, naive.id, 1)))
  t.equal(oversold.filter((o) => o.kind === 'reserved').length, 10, 'the blind SET sold 20 of 10 units')
  // Ours: available = 10 − 10 pending = 0.
  t.match(await syncVia(app, [ours.id]), [{ mysqlStock: 10, pending: 10, after: 0 }])
  const refused = await Promise.all(Array.from({ length: 10 }, () => reserve(store, ours.id, 1)))
  t.ok(refused.every((o) => o.kind === 'insufficient-stock'), 'nothing more is sold')
  const snap = await store.snapshot(ours.id)
  t.equal(snap.available! + snap.pending, 10)
})

t.test('sync during concurrent reservations never puts more on sale than MySQL can honour', async (t) => {
  const app = await buildTestApp(t)
  const s = testStack(t)
  const N = 300
  const product = await postProduct(app, { stock: N })
  const keys = productKeys(product.id)
  let buying = true
  let reservedUnits = 0
  let refusals = 0
  const buyers = (async () => {
    // Demand (~1200 units) far above N, in waves of concurrent reservations, like the gateway.
    for (let wave = 0; wave < 40; wave++) {
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => reserve(s.store, product.id, 1 + (i % 2))))
      outcomes.forEach((o, i) => {
        if (o.kind === 'reserved') reservedUnits += 1 + (i % 2)
        else refusals++
      })
      await sleep(2)
    }
    buying = false
  })()
  const rows: SyncRow[] = []
  // Two syncers (an admin's click and the cron'd script, say) race each other and the buyers.
  const syncer = async () => {
    for (let i = 0; i < 1000 && buying; i++) rows.push(...await syncVia(app, [product.id]))
  }
  await Promise.all([buyers, syncer(), syncer()])
  t.ok(refusals > 0, 'demand exceeded supply')

  t.ok(rows.length > 0, `${rows.length} syncs ran during the sale`)
  t.ok(reservedUnits <= N, `units reserved ${reservedUnits} ≤ ${N}`)
  t.ok(reservedUnits >= N - 1, 'and no false sold-out: all units went (one may be left for a 2-unit buyer)')
  t.same(rows.filter((row) => row.after !== Math.max(row.mysqlStock - row.pending, 0)), [], 'every sync wrote MySQL − pending')
  const during = rows.filter((r) => r.pending > 0)
  t.ok(during.length > 0, 'some syncs ran with reservations in flight')
  // The contrast: each of those, done the seed's way (SET stock = MySQL stock), would have put
  // `pending` units on sale a second time.
  t.ok(during.every((r) => r.mysqlStock + r.pending > N), 'a blind SET would have oversold at every one of them')

  const final = await syncVia(app, [product.id])
  const snap = await s.store.snapshot(product.id)
  const mysqlStock = (await mysqlProduct(s.mysql, product.id))?.stock
  t.equal(mysqlStock, N, 'MySQL untouched (no processor here)')
  t.equal(snap.available! + snap.pending, mysqlStock, 'available + pending = MySQL stock')
  t.equal(snap.pending, reservedUnits, 'the ledger holds exactly the reserved units')
  t.match(final, [{ after: snap.available }])
  t.equal(Number(await s.redis.get(keys.stock)), N - reservedUnits)
})

t.test('sync while a processor applies batches and an admin restocks: every reservation is honoured by MySQL', async (t) => {
  const app = await buildTestApp(t)
  const s = testStack(t)
  const N = 200
  const RESTOCK = [15, 25]
  const product = await postProduct(app, { stock: N })
  let buying = true
  let reservedUnits = 0
  let appliedUnits = 0
  let guardFailures = 0
  const buyers = (async () => {
    for (let wave = 0; wave < 40; wave++) {
      const outcomes = await Promise.all(Array.from({ length: 15 }, () => reserve(s.store, product.id, 1)))
      reservedUnits += outcomes.filter((o) => o.kind === 'reserved').length
      await sleep(1)
    }
    buying = false
  })()
  const processor = (async () => {
    for (let i = 0; i < 2000; i++) {
      const { units, guardHeld } = await applyBatch(s, product.id, 40)
      appliedUnits += units
      if (!guardHeld) guardFailures++
      if (!buying && units === 0) break
      if (units === 0) await sleep(2)
    }
  })()
  const outcomes: string[] = []
  const syncer = (async () => {
    for (let i = 0; i < 1000 && buying; i++) outcomes.push(...(await syncVia(app, [product.id])).map((r) => r.outcome))
  })()
  const restocks = (async () => {
    for (const quantity of RESTOCK) {
      await sleep(10)
      const res = await app.inject({ method: 'POST', url: `/products/${product.id}/restock`, headers: admin, payload: { quantity } })
      t.equal(res.statusCode, 200, 'restock during the sale')
    }
  })()
  await Promise.all([buyers, processor, syncer, restocks])
  // Drain what the buyers left in the ledger.
  for (let i = 0; i < 100; i++) {
    const { units, guardHeld } = await applyBatch(s, product.id, 100)
    appliedUnits += units
    if (!guardHeld) guardFailures++
    if (units === 0) break
  }
  const onSale = N + RESTOCK.reduce((a, b) => a + b, 0)
  t.ok(outcomes.length > 0, `syncs during the sale: ${outcomes.filter((o) => o === 'set').length} set, ${outcomes.filter((o) => o === 'unchanged').length} unchanged, ${outcomes.filter((o) => o === 'busy').length} busy`)
  t.equal(guardFailures, 0, 'MySQL\'s guarded UPDATE never found too little stock: nothing was oversold')
  t.ok(reservedUnits <= onSale, `units reserved ${reservedUnits} ≤ ${onSale} put on sale`)
  t.equal(appliedUnits, reservedUnits, 'every reservation was applied')
  const mysqlStock = (await mysqlProduct(s.mysql, product.id))?.stock
  t.equal(mysqlStock, onSale - appliedUnits)
  const snap = await s.store.snapshot(product.id)
  t.equal(snap.pending, 0)
  t.equal(snap.available, mysqlStock, 'Redis and MySQL converge (I4)')
  t.equal(await s.redis.hlen(productKeys(product.id).changes), 0, 'no change left registered')
  t.match(await syncVia(app, [product.id]), [{ outcome: 'unchanged', after: mysqlStock }])
})

t.test('a sync that finds a change kept in flight reports busy and leaves Redis alone', async (t) => {
  const app = await buildTestApp(t)
  const { redis, store } = testStack(t)
  const product = await postProduct(app, { stock: 7 })
  const token = newChangeToken('test-stuck')
  await store.beginChange(product.id, token)
  t.teardown(() => store.finishChange(product.id, token, []))
  await redis.set(productKeys(product.id).stock, '99')
  t.match(await syncVia(app, [product.id]), [{ outcome: 'busy', mysqlStock: 7, before: 99, after: 99 }])
  t.equal(await redis.get(productKeys(product.id).stock), '99', 'not overwritten while MySQL may be moving')
  const script = await run(process.execPath, ['src/scripts/sync-stock.ts', String(product.id)], { cwd: serviceDir, env: { ...process.env, LOG_LEVEL: 'silent' } })
    .then(() => ({ code: 0, stdout: '' }), (error: { code: number, stdout: string }) => error)
  t.equal(script.code, 2, 'the script exits non-zero when a product stayed busy')
  t.match(script.stdout, /busy/)
})

t.test('npm run sync:stock uses the same sync, prints a table, and exits 0', async (t) => {
  const app = await buildTestApp(t)
  const { redis, store } = testStack(t)
  const a = await postProduct(app, { stock: 30 })
  const b = await postProduct(app, { stock: 40 })
  await reserve(store, a.id, 5)
  await redis.del(productKeys(a.id).stock)
  await redis.set(productKeys(b.id).stock, '1')
  const { stdout } = await run(process.execPath, ['src/scripts/sync-stock.ts', String(a.id), String(b.id)], { cwd: serviceDir, env: { ...process.env, LOG_LEVEL: 'silent' } })
  t.match(stdout, /productId\s+mysqlStock\s+pending\s+before\s+after\s+outcome/)
  t.match(stdout, new RegExp(`${a.id}\\s+30\\s+5\\s+-\\s+25\\s+set`))
  t.match(stdout, new RegExp(`${b.id}\\s+40\\s+0\\s+1\\s+40\\s+set`))
  t.match(stdout, /2 products: 2 set, 0 unchanged, 0 busy/)
  t.equal(await redis.get(productKeys(a.id).stock), '25')
  t.equal(await redis.get(productKeys(b.id).stock), '40')
  const bad = await run(process.execPath, ['src/scripts/sync-stock.ts', 'abc'], { cwd: serviceDir }).catch((e: { code: number }) => e)
  t.equal((bad as { code: number }).code, 64, 'a bad argument is a usage error')
})

t.test('reconcile reports agreement, pending units and stale reservations; release-stale returns them once', async (t) => {
  // Every catalog app running meanwhile (other test files, the `make local` service) sweeps stale
  // reservations of all products older than its STALE_RESERVATION_SECONDS (120 s by default): this
  // test's "old" reservation is 90 s old, stale for this app (60 s) and for the report, but for no
  // other sweeper. (An hour-old one was sometimes released by them before the report ran.) This app
  // does not sweep by itself: on a loaded machine its own sweep released the reservation before the
  // report and the release this test makes.
  const app = await buildTestApp(t, {}, { STALE_RESERVATION_SECONDS: '60', STALE_SWEEP_SECONDS: '0' })
  const { redis, store } = testStack(t)
  const product = await postProduct(app, { stock: 10 })
  const keys = productKeys(product.id)
  const fresh = newOrderId()
  const old = newOrderId()
  const claimed = newOrderId()
  const ninetySecondsAgo = Date.now() - 90_000
  t.equal((await reserve(store, product.id, 1, { orderId: fresh, userId: 'fresh' })).kind, 'reserved')
  t.equal((await reserve(store, product.id, 2, { orderId: old, userId: 'old', now: ninetySecondsAgo })).kind, 'reserved')
  t.equal((await reserve(store, product.id, 3, { orderId: claimed, now: ninetySecondsAgo })).kind, 'reserved')
  const token = newChangeToken('test-processor')
  await store.beginChange(product.id, token, [claimed])
  await store.finishChange(product.id, token, []) // claimed by a batch still running elsewhere

  const report = async (query = '') => {
    const res = await app.inject({ url: `/admin/stock/reconcile${query}`, headers: admin })
    t.equal(res.statusCode, 200)
    return res.json() as { products: Array<Record<string, unknown>>, staleReservations: Array<Record<string, unknown>> }
  }
  let r = await report('?staleAfterSeconds=60')
  t.same(r.products.find((p) => p.productId === product.id), { productId: product.id, name: product.name, mysqlStock: 10, redisAvailable: 4, pending: 6, agrees: true })
  const stale = r.staleReservations.filter((s) => s.productId === product.id)
  t.equal(stale.length, 1, 'only the old unclaimed reservation is stale')
  t.match(stale[0], { orderId: old, quantity: 2 })
  t.ok((stale[0]!.ageSeconds as number) >= 89)

  await redis.incrby(keys.stock, 5) // drift
  r = await report()
  t.match(r.products.find((p) => p.productId === product.id), { redisAvailable: 9, pending: 6, agrees: false })

  const released = await app.inject({ method: 'POST', url: '/admin/stock/release-stale', headers: admin, payload: { productIds: [product.id] } })
  t.equal(released.statusCode, 200)
  t.match(released.json().released, [{ productId: product.id, orderId: old, quantity: 2 }])
  t.equal(await redis.get(keys.stock), '11', 'its 2 units are back on sale')
  t.equal(await redis.exists(`${keys.voidPrefix}${old}`), 1, 'a tombstone fails the order if it ever arrives')
  t.equal(await store.heldBy(product.id, 'old'), 0)
  const ledger = (await store.snapshot(product.id)).ledger.map((e) => e.orderId).sort()
  t.same(ledger, [fresh, claimed].sort(), 'the fresh and the claimed reservations stay')
  const again = await app.inject({ method: 'POST', url: '/admin/stock/release-stale', headers: admin, payload: { productIds: [product.id] } })
  t.same(again.json().released, [], 'released once')
  await syncVia(app, [product.id])
  t.match((await report()).products.find((p) => p.productId === product.id), { redisAvailable: 6, pending: 4, agrees: true })
})

t.test('the service releases stale reservations by itself', async (t) => {
  // The sweep runs every 10 s and releases what is older than 40 s.
  const app = await buildTestApp(t, {}, { STALE_RESERVATION_SECONDS: '40', STALE_SWEEP_SECONDS: '10' })
  const { redis, store } = testStack(t)
  const product = await postProduct(app, { stock: 5 })
  const orderId = newOrderId()
  // 90 s old: stale for this app (40 s), not yet for the other sweepers running meanwhile (120 s), so
  // this app's sweep is the one that releases it.
  t.equal((await reserve(store, product.id, 2, { orderId, now: Date.now() - 90_000 })).kind, 'reserved')
  t.equal(await redis.get(productKeys(product.id).stock), '3')
  // Polls the product's ledger; the sweep may also release leftovers of earlier runs (no processor
  // applies the reservations these tests make), so the counter is at least our 2 units.
  const releasedUnits = async () => Number(/catalog_stale_units_released_total\{[^}]*\} (\d+)/.exec((await app.inject('/metrics')).body)?.[1] ?? 0)
  for (let i = 0; i < 60 && ((await store.snapshot(product.id)).ledger.length > 0 || await releasedUnits() < 2); i++) await sleep(500)
  t.ok(await releasedUnits() >= 2, 'the sweep released the 2 units and counted them')
  t.equal((await store.snapshot(product.id)).ledger.length, 0, 'the stale reservation is gone')
  t.equal(await redis.get(productKeys(product.id).stock), '5')
  t.equal(await redis.exists(`${productKeys(product.id).voidPrefix}${orderId}`), 1)
})
