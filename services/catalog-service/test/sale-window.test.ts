import t from 'tap'
import { productKeys } from '@flash/common'
import type { RowDataPacket } from 'mysql2/promise'
import { testStack, uniqueName } from '@flash/common/test-support'
import { admin, buildTestApp, countProductsNamed, postProduct, redisKeysOf } from './helper.ts'

// Sale windows as the catalog stores and publishes them, and product reads a crowd of
// browsers can poll cheaply (Cache-Control, ETag/304, X-Server-Time, a reads counter).

const app = await buildTestApp(t)
const { mysql, redis } = testStack(t)

interface WindowRow extends RowDataPacket { sale_starts_at: Date | null, sale_ends_at: Date | null }
async function mysqlWindow (id: number): Promise<{ starts: string | null, ends: string | null }> {
  const [rows] = await mysql.query<WindowRow[]>('SELECT sale_starts_at, sale_ends_at FROM products WHERE id = ?', [id])
  const row = rows[0]
  if (row === undefined) throw new Error(`product ${id} missing`)
  return { starts: row.sale_starts_at?.toISOString() ?? null, ends: row.sale_ends_at?.toISOString() ?? null }
}

const redisWindow = async (id: number) => {
  const [starts, ends] = await redis.hmget(productKeys(id).info, 'starts', 'ends')
  return { starts, ends }
}

async function productRows (id: number): Promise<unknown> {
  const [rows] = await mysql.query('SELECT * FROM products WHERE id = ?', [id])
  return rows
}

t.after(async () => {
  await mysql.query('DELETE FROM products WHERE name LIKE ?', ['salewin-%'])
})

t.test('a product created with a window shows it in JSON, MySQL (UTC) and the reservation script\'s hash', async (t) => {
  const product = await postProduct(app, {
    name: uniqueName('salewin'),
    saleStartsAt: '2031-05-01T10:00:00.250+02:00',
    saleEndsAt: '2031-05-01T09:00:00Z'
  })
  t.equal(product.saleStartsAt, '2031-05-01T08:00:00.250Z', 'answered in UTC, milliseconds kept')
  t.equal(product.saleEndsAt, '2031-05-01T09:00:00.000Z')
  t.same(await mysqlWindow(product.id), { starts: '2031-05-01T08:00:00.250Z', ends: '2031-05-01T09:00:00.000Z' })
  t.same(await redisWindow(product.id), { starts: String(Date.parse('2031-05-01T08:00:00.250Z')), ends: String(Date.parse('2031-05-01T09:00:00Z')) })

  const plain = await postProduct(app, { name: uniqueName('salewin') })
  t.equal(plain.saleStartsAt, null)
  t.equal(plain.saleEndsAt, null)
  t.same(await redisWindow(plain.id), { starts: null, ends: null }, 'no window: no bounds in the hash')
})

t.test('an end not after the start is refused, naming the field, and creates nothing', async (t) => {
  const name = uniqueName('salewin-bad')
  for (const window of [
    { saleStartsAt: '2031-01-01T10:00:00Z', saleEndsAt: '2031-01-01T10:00:00Z' },
    { saleStartsAt: '2031-01-01T10:00:00Z', saleEndsAt: '2031-01-01T09:59:59.999Z' }
  ]) {
    const res = await app.inject({ method: 'POST', url: '/products', headers: admin, payload: { name, stock: 5, ...window } })
    t.equal(res.statusCode, 400)
    t.equal(res.json().code, 'VALIDATION_FAILED')
    t.match(res.json().message, /saleEndsAt/)
  }
  for (const saleStartsAt of ['tomorrow', '2031-01-01', '2031-01-01T10:00:00', '0001-01-01T00:00:00Z']) {
    const res = await app.inject({ method: 'POST', url: '/products', headers: admin, payload: { name, stock: 5, saleStartsAt } })
    t.equal(res.statusCode, 400, `${saleStartsAt} refused`)
    t.match(res.json().message, /saleStartsAt/)
  }
  t.equal(await countProductsNamed(mysql, name), 0, 'no row written')
})

t.test('PATCH moves, clears and checks the window against the stored bound; Redis follows', async (t) => {
  const product = await postProduct(app, { name: uniqueName('salewin'), saleStartsAt: '2031-01-01T10:00:00Z' })
  const seqBefore = Number(await redis.get(productKeys(product.id).seq))

  const moved = await app.inject({ method: 'PATCH', url: `/products/${product.id}`, headers: admin, payload: { saleStartsAt: '2030-12-31T23:00:00Z', saleEndsAt: '2031-01-02T00:00:00Z' } })
  t.equal(moved.statusCode, 200)
  t.equal(moved.json().saleStartsAt, '2030-12-31T23:00:00.000Z')
  t.same(await redisWindow(product.id), { starts: String(Date.parse('2030-12-31T23:00:00Z')), ends: String(Date.parse('2031-01-02T00:00:00Z')) })
  t.ok(Number(await redis.get(productKeys(product.id).seq)) > seqBefore, 'seq moved: a sync that read MySQL before cannot write the old window back')

  // Only the end, before the stored start: refused, and nothing changes anywhere.
  const rowsBefore = await productRows(product.id)
  const redisBefore = await redisKeysOf(redis, product.id)
  const bad = await app.inject({ method: 'PATCH', url: `/products/${product.id}`, headers: admin, payload: { saleEndsAt: '2030-12-31T22:00:00Z' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /saleEndsAt must be after saleStartsAt/)
  t.same(await productRows(product.id), rowsBefore, 'MySQL unchanged')
  t.same(await redisKeysOf(redis, product.id), redisBefore, 'Redis unchanged')

  const cleared = await app.inject({ method: 'PATCH', url: `/products/${product.id}`, headers: admin, payload: { saleStartsAt: null } })
  t.equal(cleared.statusCode, 200)
  t.equal(cleared.json().saleStartsAt, null)
  t.equal(cleared.json().saleEndsAt, '2031-01-02T00:00:00.000Z', 'the end stays')
  t.same(await mysqlWindow(product.id), { starts: null, ends: '2031-01-02T00:00:00.000Z' })
  t.same(await redisWindow(product.id), { starts: null, ends: String(Date.parse('2031-01-02T00:00:00Z')) })
})

t.test('stock sync copies the window from MySQL (it repairs a lost Redis write)', async (t) => {
  const product = await postProduct(app, { name: uniqueName('salewin'), saleStartsAt: '2032-02-02T02:02:02.002Z' })
  await redis.hdel(productKeys(product.id).info, 'starts')
  await redis.hset(productKeys(product.id).info, 'ends', '1')
  const res = await app.inject({ method: 'POST', url: '/admin/stock/sync', headers: admin, payload: { productIds: [product.id] } })
  t.equal(res.statusCode, 200)
  t.same(await redisWindow(product.id), { starts: String(Date.parse('2032-02-02T02:02:02.002Z')), ends: null }, 'start restored, stray end removed')
})

t.test('product reads: Cache-Control max-age=1, a weak ETag answered 304, the server clock, and a counted read', async (t) => {
  const product = await postProduct(app, { name: uniqueName('salewin') })
  const readsOf = async (route: string): Promise<number> => {
    const text = (await app.inject('/metrics')).body
    const line = text.split('\n').find((l) => l.startsWith(`catalog_product_reads_total{route="${route}"`))
    return line === undefined ? 0 : Number(line.split(' ')[1])
  }
  const before = await readsOf('one')
  const first = await app.inject(`/products/${product.id}`)
  t.equal(first.statusCode, 200)
  t.equal(first.headers['cache-control'], 'public, max-age=1')
  const etag = String(first.headers.etag)
  t.match(etag, /^W\/".+"$/)
  const serverTime = Number(first.headers['x-server-time'])
  t.ok(Math.abs(serverTime - Date.now()) < 5000, 'x-server-time is the clock in ms')

  const again = await app.inject({ url: `/products/${product.id}`, headers: { 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  t.equal(await readsOf('one') - before, 2, 'both reads reached Redis/MySQL and were counted')

  // Stock moved: the ETag changes, so a browser holding the old one gets the new body.
  await app.inject({ method: 'POST', url: `/products/${product.id}/restock`, headers: admin, payload: { quantity: 3 } })
  const changed = await app.inject({ url: `/products/${product.id}`, headers: { 'if-none-match': etag } })
  t.equal(changed.statusCode, 200)
  t.equal(changed.json().stock, 13)
  t.not(changed.headers.etag, etag)

  const listBefore = await readsOf('list')
  const list = await app.inject('/products?pageSize=1')
  t.equal(list.headers['cache-control'], 'public, max-age=1')
  t.ok(list.headers.etag)
  t.equal(await readsOf('list') - listBefore, 1)
  // Writes are not cacheable answers.
  const patch = await app.inject({ method: 'PATCH', url: `/products/${product.id}`, headers: admin, payload: { price: 5 } })
  t.equal(patch.headers['cache-control'], undefined)
  t.equal(patch.headers.etag, undefined)
})

t.test('the shop\'s order: on-sale and upcoming first, sold-out and ended last, or hidden', async (t) => {
  const tag = uniqueName('salewin-order')
  // Created oldest first: newest-first would put the sold-out and ended ones on top.
  const onSale = await postProduct(app, { name: `${tag}-onsale`, stock: 5 })
  const upcoming = await postProduct(app, { name: `${tag}-upcoming`, stock: 5, saleStartsAt: '2035-01-01T00:00:00Z' })
  const soldOut = await postProduct(app, { name: `${tag}-soldout`, stock: 0 })
  const ended = await postProduct(app, { name: `${tag}-ended`, stock: 5, saleStartsAt: '2020-01-01T00:00:00Z', saleEndsAt: '2020-01-02T00:00:00Z' })

  const ids = async (url: string) => ((await app.inject(url)).json().items as Array<{ id: number }>).map((p) => p.id)
  t.same(await ids(`/products?name=${tag}`), [ended.id, soldOut.id, upcoming.id, onSale.id], 'default: newest first')
  t.same(await ids(`/products?name=${tag}&sort=on-sale-first`), [upcoming.id, onSale.id, ended.id, soldOut.id])
  const hidden = await app.inject(`/products?name=${tag}&sort=on-sale-first&hideSoldOut=true`)
  t.same((hidden.json().items as Array<{ id: number }>).map((p) => p.id), [upcoming.id, onSale.id])
  t.equal(hidden.json().total, 2, 'the total counts what is shown')
  const bad = await app.inject('/products?sort=cheapest')
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /sort/)
})
