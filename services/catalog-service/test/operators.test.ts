import t from 'tap'
import type { Test } from 'tap'
import { ErrorCode, type App, type Pool } from '@flash/common'
import { testStack, uniqueName } from '@flash/common/test-support'
import type { RowDataPacket } from 'mysql2/promise'
import { admin, buildTestApp, mysqlProduct, postProduct } from './helper.ts'

// Operators sign in with roles, and every admin write is audited: asserted where the truth lives
// (MySQL `operators`, `products`, `audit_log`), not only in the HTTP answers.

const PASSWORD = 'correct horse battery staple'

interface AuditRow { actor: string, actor_role: string, action: string, product_id: number | null, operator_id: number | null, outcome: string, code: string | null }

/** The audit entries of one actor since `afterId`, oldest first. */
async function auditOf (mysql: Pool, actor: string, afterId = 0): Promise<AuditRow[]> {
  const [rows] = await mysql.query<Array<RowDataPacket & AuditRow>>(
    'SELECT actor, actor_role, action, product_id, operator_id, outcome, code FROM audit_log WHERE actor = ? AND id > ? ORDER BY id', [actor, afterId])
  return rows.map((r) => ({ ...r, product_id: r.product_id === null ? null : Number(r.product_id), operator_id: r.operator_id === null ? null : Number(r.operator_id) }))
}

async function lastAuditId (mysql: Pool): Promise<number> {
  const [rows] = await mysql.query<Array<RowDataPacket & { id: number | null }>>('SELECT MAX(id) AS id FROM audit_log')
  return Number(rows[0]?.id ?? 0)
}

/** Creates an operator with the admin token and signs it in: its bearer header and its audit name. */
async function signedInOperator (t: Test, app: App, role: 'admin' | 'viewer'): Promise<{ id: number, username: string, actor: string, headers: Record<string, string> }> {
  const username = uniqueName(role).replace(/-/g, '_')
  const created = await app.inject({ method: 'POST', url: '/admin/operators', headers: admin, payload: { username, password: PASSWORD, role } })
  t.equal(created.statusCode, 201, `the admin token creates the ${role} ${username}`)
  const login = await app.inject({ method: 'POST', url: '/auth/operators/login', payload: { username, password: PASSWORD } })
  t.equal(login.statusCode, 200, `${username} signs in`)
  t.match(login.json(), { operator: { username, role }, tokenType: 'Bearer', expiresIn: 1800 })
  return { id: created.json().id, username, actor: `operator:${username}`, headers: { authorization: `Bearer ${login.json().accessToken as string}` } }
}

t.test('the admin token bootstraps operators; they sign in with their role; a wrong password and an unknown name get one answer', async (t) => {
  const app = await buildTestApp(t)
  const { mysql } = testStack(t)
  const boss = await signedInOperator(t, app, 'admin')
  const [[row]] = await mysql.query<Array<RowDataPacket & { role: string, password_hash: string }>>('SELECT role, password_hash FROM operators WHERE username = ?', [boss.username])
  t.equal(row?.role, 'admin', 'MySQL holds the role')
  t.match(row?.password_hash, /^scrypt\$16384\$8\$1\$/, 'the password is hashed like a buyer\'s, never stored')
  // Other files create products with the admin token meanwhile: only this operator's entries.
  t.same((await auditOf(mysql, 'admin-token')).filter((r) => r.operator_id === boss.id), [{ actor: 'admin-token', actor_role: 'admin', action: 'operator.create', product_id: null, operator_id: boss.id, outcome: 'ok', code: null }],
    'the creation is audited under the break-glass actor')

  const wrong = await app.inject({ method: 'POST', url: '/auth/operators/login', payload: { username: boss.username, password: 'not the password' } })
  const unknown = await app.inject({ method: 'POST', url: '/auth/operators/login', payload: { username: uniqueName('nobody'), password: PASSWORD } })
  t.match([wrong.statusCode, wrong.json().code], [401, ErrorCode.INVALID_CREDENTIALS])
  t.same([unknown.statusCode, unknown.json().code, unknown.json().message], [wrong.statusCode, wrong.json().code, wrong.json().message], 'the same answer')
  const taken = await app.inject({ method: 'POST', url: '/admin/operators', headers: boss.headers, payload: { username: boss.username, password: PASSWORD, role: 'viewer' } })
  t.match([taken.statusCode, taken.json().code], [409, ErrorCode.USERNAME_TAKEN])
  const short = await app.inject({ method: 'POST', url: '/admin/operators', headers: boss.headers, payload: { username: uniqueName('x'), password: 'short', role: 'viewer' } })
  t.match([short.statusCode, short.json().message], [400, /body\/password/], 'a bad field is named')
  const buyerToken = await app.inject({ url: '/admin/audit', headers: { authorization: 'Bearer not-an-operator' } })
  t.equal(buyerToken.json().code, ErrorCode.FORBIDDEN)
})

t.test('a viewer reads every admin route but is refused every write with OPERATOR_READ_ONLY; nothing changes, each refusal is audited', async (t) => {
  const app = await buildTestApp(t)
  const { mysql } = testStack(t)
  const viewer = await signedInOperator(t, app, 'viewer')
  const other = await signedInOperator(t, app, 'viewer')
  const product = await postProduct(app, { stock: 5 })
  const productBefore = await mysqlProduct(mysql, product.id)
  const before = await lastAuditId(mysql)

  for (const url of ['/admin/audit', '/admin/products?status=all', '/admin/operators', '/admin/stock/reconcile']) {
    t.equal((await app.inject({ url, headers: viewer.headers })).statusCode, 200, `GET ${url}: the viewer reads it`)
  }
  const name = uniqueName('viewer-made')
  const refusedOperator = uniqueName('v')
  const writes: Array<[string, 'POST' | 'PATCH' | 'DELETE', string, Record<string, unknown> | undefined, number | null]> = [
    ['product.create', 'POST', '/products', { name, stock: 3 }, null],
    ['product.update', 'PATCH', `/products/${product.id}`, { name: `${name} renamed` }, product.id],
    ['product.update', 'PATCH', `/products/${product.id}`, { waitingRoom: { enabled: true } }, product.id],
    ['product.restock', 'POST', `/products/${product.id}/restock`, { quantity: 5 }, product.id],
    ['product.archive', 'DELETE', `/products/${product.id}`, undefined, product.id],
    ['stock.sync', 'POST', '/admin/stock/sync', { productIds: [product.id] }, null],
    ['stock.release-stale', 'POST', '/admin/stock/release-stale', { productIds: [product.id] }, null],
    ['operator.create', 'POST', '/admin/operators', { username: refusedOperator, password: PASSWORD, role: 'admin' }, null],
    ['operator.role', 'PATCH', `/admin/operators/${other.id}`, { role: 'admin' }, other.id]
  ]
  for (const [action, method, url, payload, id] of writes) {
    const res = await app.inject({ method, url, headers: viewer.headers, ...(payload === undefined ? {} : { payload }) })
    t.match([res.statusCode, res.json().code, res.json().message], [403, ErrorCode.OPERATOR_READ_ONLY, /role viewer/], `${method} ${url}: 403`)
    const [last] = (await auditOf(mysql, viewer.actor, before)).slice(-1)
    t.match(last, { actor_role: 'viewer', action, outcome: 'refused', code: ErrorCode.OPERATOR_READ_ONLY, ...(action.startsWith('operator.') ? { operator_id: id } : { product_id: id }) },
      `${method} ${url}: audited as refused`)
  }
  t.equal((await auditOf(mysql, viewer.actor, before)).length, writes.length, 'one entry per refusal, no more')
  t.same(await mysqlProduct(mysql, product.id), productBefore, 'the product row is byte for byte as it was')
  const [[made]] = await mysql.query<Array<RowDataPacket & { n: number }>>('SELECT COUNT(*) AS n FROM products WHERE name LIKE ?', [`${name}%`])
  t.equal(Number(made?.n), 0, 'no product was created')
  const [[role]] = await mysql.query<Array<RowDataPacket & { role: string }>>('SELECT role FROM operators WHERE id = ?', [other.id])
  t.equal(role?.role, 'viewer', 'no role was changed')
  const [operators] = await mysql.query<RowDataPacket[]>('SELECT id FROM operators WHERE username = ?', [refusedOperator])
  t.equal(operators.length, 0, 'no operator was created')
})

t.test('every admin write is audited with its operator, product and outcome; refusals and repeats are told apart', async (t) => {
  const app = await buildTestApp(t)
  const { mysql } = testStack(t)
  const boss = await signedInOperator(t, app, 'admin')
  const other = await signedInOperator(t, app, 'viewer')
  const as = boss.headers
  const call = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown>, headers: Record<string, string> = {}) =>
    await app.inject({ method, url, headers: { ...as, ...headers }, ...(payload === undefined ? {} : { payload }) })

  const created = await call('POST', '/products', { name: uniqueName('audited'), stock: 4 })
  t.equal(created.statusCode, 201)
  const id = created.json().id as number
  const simulated = await call('POST', '/products', { name: uniqueName('sim'), stock: 4 }, { 'x-admin-context': 'simulator' })
  t.equal(simulated.statusCode, 201)
  t.equal((await call('PATCH', `/products/${id}`, { price: 100 })).statusCode, 200)
  t.equal((await call('PATCH', `/products/${id}`, { waitingRoom: { enabled: false, opensSecondsBefore: 60 } })).statusCode, 200)
  t.equal((await call('POST', `/products/${id}/restock`, { quantity: 6 })).statusCode, 200)
  t.equal((await call('POST', '/admin/stock/sync', { productIds: [id] })).statusCode, 200)
  t.equal((await call('POST', '/admin/stock/release-stale', { productIds: [id] })).statusCode, 200)
  t.equal((await call('DELETE', `/products/${id}`)).statusCode, 200)
  t.equal((await call('DELETE', `/products/${id}`)).statusCode, 200, 'archiving again answers 200…')
  const refused = await call('POST', `/products/${id}/restock`, { quantity: 1 })
  t.equal(refused.json().code, ErrorCode.PRODUCT_ARCHIVED)
  t.equal((await call('PATCH', `/admin/operators/${other.id}`, { role: 'admin' })).statusCode, 200)

  t.same((await auditOf(mysql, boss.actor)).map((r) => [r.action, r.product_id ?? r.operator_id, r.outcome, r.code]), [
    ['product.create', id, 'ok', null],
    ['simulator.run', simulated.json().id, 'ok', null],
    ['product.update', id, 'ok', null],
    ['waiting-room.configure', id, 'ok', null],
    ['product.restock', id, 'ok', null],
    ['stock.sync', null, 'ok', null],
    ['stock.release-stale', null, 'ok', null],
    ['product.archive', id, 'ok', null],
    ['product.restock', id, 'refused', ErrorCode.PRODUCT_ARCHIVED],
    ['operator.role', other.id, 'ok', null]
  ], '…but writes no second entry: it changed nothing')
  t.ok((await auditOf(mysql, boss.actor)).every((r) => r.actor_role === 'admin'))
  t.equal((await mysqlProduct(mysql, id))?.stock, 10, 'the restock the log says happened is in MySQL')

  const page = (await app.inject({ url: `/admin/audit?productId=${id}&pageSize=3`, headers: other.headers })).json()
  t.match(page, { page: 1, pageSize: 3, total: 6 }, 'the log pages, by product')
  t.match(page.items[0], { actor: boss.actor, actorRole: 'admin', action: 'product.restock', productId: id, outcome: 'refused', code: ErrorCode.PRODUCT_ARCHIVED }, 'newest first')
  const mine = (await app.inject({ url: `/admin/audit?actor=${encodeURIComponent(boss.actor)}`, headers: other.headers })).json()
  t.equal(mine.total, 10, 'and by actor')
  t.equal((await app.inject({ url: '/admin/audit?pageSize=101', headers: admin })).json().code, ErrorCode.VALIDATION_FAILED)
})

t.test('the admin product list finds archived products by status, id and name', async (t) => {
  const app = await buildTestApp(t)
  const tag = uniqueName('findable')
  const kept = await postProduct(app, { name: `${tag} kept` })
  const gone = await postProduct(app, { name: `${tag} gone` })
  t.equal((await app.inject({ method: 'DELETE', url: `/products/${gone.id}`, headers: admin })).statusCode, 200)
  const list = async (query: string) => {
    const res = await app.inject({ url: `/admin/products?${query}`, headers: admin })
    t.equal(res.statusCode, 200, query)
    return (res.json().items as Array<{ id: number, status: string }>).map((p) => [p.id, p.status])
  }
  t.same(await list(`search=${encodeURIComponent(tag)}`), [[gone.id, 'archived'], [kept.id, 'active']], 'all by default, newest first')
  t.same(await list(`status=archived&search=${encodeURIComponent(tag)}`), [[gone.id, 'archived']])
  t.same(await list(`status=active&search=${encodeURIComponent(tag)}`), [[kept.id, 'active']])
  // By id: that product first, though a newer one names its digits; any others naming them follow.
  const decoy = await postProduct(app, { name: `decoy ${gone.id}` })
  t.equal((await app.inject({ method: 'DELETE', url: `/products/${decoy.id}`, headers: admin })).statusCode, 200)
  const byId = await app.inject({ url: `/admin/products?status=archived&search=${gone.id}`, headers: admin })
  const found = byId.json().items as Array<{ id: number, name: string, status: string }>
  t.same([found[0]?.id, found[0]?.status], [gone.id, 'archived'], 'by id, first')
  t.ok(found.some((p) => p.id === decoy.id), 'and a product naming them')
  t.same(found.slice(1).filter((p) => !p.name.includes(String(gone.id))), [], 'the rest name those digits')
  t.same((await app.inject(`/products?name=${encodeURIComponent(tag)}`)).json().items.map((p: { id: number }) => p.id), [kept.id], 'the shop still lists only active ones')
  t.equal((await app.inject('/admin/products?status=gone')).statusCode, 401, 'an anonymous caller learns nothing')
  const bad = await app.inject({ url: '/admin/products?status=gone', headers: admin })
  t.match([bad.statusCode, bad.json().message], [400, /querystring\/status/])
})
