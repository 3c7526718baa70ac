import { createHmac, randomUUID } from 'node:crypto'
import t from 'tap'
import {
  ErrorCode, ACCESS_COOKIE, TOKEN_AUDIENCE, TOKEN_ISSUER, accessTokenKey, createAccessTokenSigner, createOperatorTokenSigner, newOrderId, productKeys
} from '@flash/common'
import { createProduct, testStack } from '@flash/common/test-support'
import { createTestTopic, testConfig, buildTestApp, insertOrder, TopicReader, post, asBuyer, asAdmin, AUTH_JWT_SECRET } from './helper.ts'

// Buyers in the gateway: an order belongs to the token's buyer, nobody reads or withdraws what is not
// theirs (404, as if it did not exist), guests follow their order with its receipt, a per-user limit
// cannot be dodged, and hostile tokens are refused without touching Redis or Kafka.

const stack = testStack(t)
const topic = await createTestTopic(t)
const app = await buildTestApp(t, testConfig(topic))
const reader = await new TopicReader(topic).start(t)

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ url, headers })
const withdraw = (orderId: string, headers: Record<string, string> = {}) => app.inject({ method: 'DELETE', url: `/orders/${orderId}`, headers })
const published = async (orderId: string): Promise<number> => (await reader.waitFor((r) => r.key === orderId, 1, 1000)).length

t.test('two buyers: neither lists, reads nor withdraws the other\'s orders (404, the same body as a missing one); the admin can', async (t) => {
  const product = await createProduct(stack, { stock: 20 })
  const alice = `alice-${randomUUID().slice(0, 8)}`
  const bob = `bob-${randomUUID().slice(0, 8)}`
  const placed = await post(app, { productId: product.id, quantity: 2 }, asBuyer(alice))
  t.equal(placed.statusCode, 202)
  t.equal(placed.json().receipt, undefined, 'a buyer\'s order needs no receipt')
  const pendingId = placed.json().orderId as string
  const [message] = await reader.waitFor((r) => r.key === pendingId)
  t.equal(message?.message.type === 'order.placed' && message.message.userId, alice, 'the order carries the token\'s buyer')
  t.same((await stack.store.snapshot(product.id)).ledger.map((e) => e.userId), [alice], 'so does the reservation')
  const confirmedId = newOrderId()
  await insertOrder(stack, { id: confirmedId, productId: product.id, userId: alice, quantity: 1, status: 'confirmed' })

  for (const id of [pendingId, confirmedId]) {
    const own = await get(`/orders/${id}`, asBuyer(alice))
    t.equal(own.statusCode, 200, 'the owner reads it')
    t.equal(own.json().userId, alice)
    const other = await get(`/orders/${id}`, asBuyer(bob))
    const missing = await get(`/orders/${newOrderId()}`, asBuyer(bob))
    t.equal(other.statusCode, 404, 'another buyer: 404')
    t.same(Object.keys(other.json()).sort(), Object.keys(missing.json()).sort())
    t.equal(other.json().code, ErrorCode.ORDER_NOT_FOUND)
    t.equal(other.json().message, `order ${id} does not exist`, 'worded as if it did not exist')
    t.equal((await get(`/orders/${id}`)).statusCode, 404, 'a guest without its receipt: 404')
    t.equal((await get(`/orders/${id}`, asAdmin)).statusCode, 200, 'the admin reads it')
  }

  const aliceList = (await get('/orders', asBuyer(alice))).json()
  t.same(aliceList.items.map((o: { orderId: string }) => o.orderId), [confirmedId], 'alice lists her own (written) orders')
  t.equal(aliceList.total, 1)
  const bobList = (await get('/orders', asBuyer(bob))).json()
  t.equal(bobList.total, 0, 'bob lists none of them')
  const snooping = await get(`/orders?userId=${alice}`, asBuyer(bob))
  t.equal(snooping.statusCode, 400, 'a buyer cannot ask for another buyer\'s list')
  t.match(snooping.json().message, /querystring\/userId/)
  const guestList = await get('/orders')
  t.equal(guestList.statusCode, 401)
  t.equal(guestList.json().code, ErrorCode.SIGN_IN_REQUIRED)
  const adminList = (await get(`/orders?productId=${product.id}`, asAdmin)).json()
  t.same(adminList.items.map((o: { orderId: string, userId: string }) => [o.orderId, o.userId]), [[confirmedId, alice]], 'the admin sees everyone\'s, with the buyer')
  t.ok('buyerName' in adminList.items[0], 'and the buyer\'s name field')

  const refused = await withdraw(confirmedId, asBuyer(bob))
  t.equal(refused.statusCode, 404, 'bob cannot withdraw alice\'s order')
  t.equal(await published(confirmedId), 0, 'nothing published for it')
  t.equal((await withdraw(confirmedId, asBuyer(alice))).statusCode, 202, 'alice can')
  t.equal(await published(confirmedId), 1)
  t.equal((await withdraw(pendingId, asAdmin)).statusCode, 202, 'the admin can')
})

t.test('operators: a viewer reads everyone\'s orders but withdraws none (403 OPERATOR_READ_ONLY, nothing published); an admin operator withdraws', async (t) => {
  const product = await createProduct(stack, { stock: 20 })
  const alice = `alice-${randomUUID().slice(0, 8)}`
  const signOperator = createOperatorTokenSigner(AUTH_JWT_SECRET)
  const viewer = { authorization: `Bearer ${signOperator({ sub: '1', name: 'viewer1', role: 'viewer' })}` }
  const boss = { authorization: `Bearer ${signOperator({ sub: '2', name: 'boss1', role: 'admin' })}` }
  const orderId = newOrderId()
  await insertOrder(stack, { id: orderId, productId: product.id, userId: alice, quantity: 1, status: 'confirmed' })

  t.equal((await get(`/orders/${orderId}`, viewer)).statusCode, 200, 'the viewer reads alice\'s order')
  t.same((await get(`/orders?productId=${product.id}`, viewer)).json().items.map((o: { orderId: string }) => o.orderId), [orderId], 'and lists it')
  const refused = await withdraw(orderId, viewer)
  t.match([refused.statusCode, refused.json().code], [403, ErrorCode.OPERATOR_READ_ONLY])
  t.equal(await published(orderId), 0, 'nothing published for it')
  t.equal((await withdraw(orderId, boss)).statusCode, 202, 'an admin operator withdraws it')
  t.equal(await published(orderId), 1)
  const asOrder = await post(app, { productId: product.id, quantity: 1 }, boss)
  t.equal(asOrder.statusCode, 401, 'an operator\'s token is no buyer\'s: it places no order')
  t.equal((await get(`/orders/${orderId}`, asBuyer('1'))).statusCode, 404, 'and a buyer\'s token is no operator\'s')
})

t.test('a guest order: 202 with a receipt that alone reads and withdraws it, and no other order', async (t) => {
  const product = await createProduct(stack, { stock: 10 })
  const first = (await post(app, { productId: product.id, quantity: 1 })).json()
  const second = (await post(app, { productId: product.id, quantity: 1 })).json()
  t.match(first.receipt, /^[A-Za-z0-9_-]{43}$/, 'a base64url HMAC-SHA256')
  t.not(first.receipt, second.receipt)

  const read = await get(`/orders/${first.orderId}`, { 'x-order-receipt': first.receipt })
  t.equal(read.statusCode, 200)
  t.match(read.json(), { orderId: first.orderId, userId: null, status: 'pending' })
  const crossed = await get(`/orders/${second.orderId}`, { 'x-order-receipt': first.receipt })
  t.equal(crossed.statusCode, 404, 'a receipt for another order: 404')
  t.equal(crossed.json().code, ErrorCode.ORDER_NOT_FOUND)
  const crossedWithdraw = await withdraw(second.orderId, { 'x-order-receipt': first.receipt })
  t.equal(crossedWithdraw.statusCode, 404)
  const forged = await get(`/orders/${first.orderId}`, { 'x-order-receipt': first.receipt.slice(0, -2) + (first.receipt.endsWith('AA') ? 'AB' : 'AA') })
  t.equal(forged.statusCode, 404, 'an altered receipt: 404')
  t.equal((await get(`/orders/${first.orderId}`, { 'x-order-receipt': 'not a receipt!' })).statusCode, 400, 'a malformed receipt header: 400')
  t.equal((await get(`/orders/${first.orderId}`, asBuyer('someone'))).statusCode, 404, 'a buyer without the receipt: 404')
  t.equal(await published(second.orderId), 1, 'only its order.placed: no cancellation published')

  t.equal((await withdraw(first.orderId, { 'x-order-receipt': first.receipt })).statusCode, 202, 'the receipt withdraws it')
  const both = await reader.waitFor((r) => r.key === first.orderId, 2)
  t.same(both.map((r) => r.message.type), ['order.placed', 'order.cancel-requested'])
})

t.test('the per-user limit holds across 50 concurrent orders of one buyer, however they are shaped', async (t) => {
  const limit = 5
  const product = await createProduct(stack, { stock: 1000, perUserLimit: limit })
  const buyer = `limited-${randomUUID().slice(0, 8)}`
  const bearer = asBuyer(buyer)
  const token = bearer.authorization?.slice('Bearer '.length) ?? ''
  // A second token of the same buyer (another device): the limit counts the buyer, not the token.
  const another = createAccessTokenSigner(AUTH_JWT_SECRET)({ id: buyer, username: 'another-device' })
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => {
    const shape = i % 5
    const headers: Record<string, string> =
      shape === 0
        ? bearer
        : shape === 1
          ? { cookie: `${ACCESS_COOKIE}=${token}` }
          : shape === 2
            ? { authorization: `Bearer ${another}`, 'idempotency-key': randomUUID() }
            : shape === 3
              ? { ...bearer, 'idempotency-key': `same-key-${buyer}` }
              : { ...bearer, 'x-forwarded-for': `198.18.0.${i}` }
    return post(app, { productId: product.id, quantity: 1 + (i % 2) }, headers)
  }))
  const statuses = new Set(answers.map((a) => a.statusCode))
  t.ok([...statuses].every((s) => s === 202 || s === 409), `only 202 and 409 (${[...statuses].join(', ')})`)
  t.ok(answers.filter((a) => a.statusCode === 409).every((a) => a.json().code === ErrorCode.PER_USER_LIMIT), 'refusals are the limit')
  const held = await stack.store.heldBy(product.id, buyer)
  t.ok(held <= limit, `the buyer holds ${held} ≤ ${limit} units in Redis`)
  t.ok(held >= limit - 1, 'and the limit was (nearly) used up: quantities of 2 may not fit the last unit')
  const snap = await stack.store.snapshot(product.id)
  const reserved = snap.ledger.filter((e) => e.userId === buyer).reduce((sum, e) => sum + e.quantity, 0)
  t.equal(reserved, held, 'the ledger holds exactly those units for the buyer')
  t.equal(snap.available, 1000 - held, 'and no other unit left the stock')
  t.equal(Number(await stack.redis.hget(productKeys(product.id).users, buyer)), held, 'users hash == ledger')
})

/** a JWT made by hand: header and claims as given, signed with `key` by HS256 (or unsigned) */
function handMade (header: Record<string, unknown>, claims: Record<string, unknown>, key: Buffer | null): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${encode(header)}.${encode(claims)}`
  return `${input}.${key === null ? '' : createHmac('sha256', key).update(input).digest('base64url')}`
}

t.test('hostile tokens and bodies: each its documented 4xx, and nothing changed in Redis or Kafka', async (t) => {
  const product = await createProduct(stack, { stock: 10 })
  const limited = await createProduct(stack, { stock: 10, perUserLimit: 1 })
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: 'mallory', name: 'mallory', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 600 }
  const key = accessTokenKey(AUTH_JWT_SECRET)
  const beforeStock = await stack.store.snapshot(product.id)
  const beforeLimited = await stack.store.snapshot(limited.id)
  const cases: Array<[string, Record<string, string>, unknown, number, string]> = [
    ['forged signature (another secret)', { authorization: `Bearer ${createAccessTokenSigner('an-attacker-secret-that-is-long-enough')({ id: 'mallory', username: 'm' })}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['alg: none', { authorization: `Bearer ${handMade({ alg: 'none', typ: 'JWT' }, claims, null)}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['alg: RS256 (key confusion)', { authorization: `Bearer ${handMade({ alg: 'RS256', typ: 'JWT' }, claims, key)}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['alg: HS512', { authorization: `Bearer ${handMade({ alg: 'HS512', typ: 'JWT' }, claims, key)}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['expired token', { authorization: `Bearer ${createAccessTokenSigner(AUTH_JWT_SECRET, { issuedAtMs: Date.now() - 3_600_000 })({ id: 'mallory', username: 'm' })}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['wrong issuer', { authorization: `Bearer ${handMade({ alg: 'HS256', typ: 'JWT' }, { ...claims, iss: 'someone-else' }, key)}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['wrong audience', { authorization: `Bearer ${handMade({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'another-app' }, key)}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['no sub', { authorization: `Bearer ${handMade({ alg: 'HS256', typ: 'JWT' }, { ...claims, sub: undefined }, key)}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['garbage token', { authorization: 'Bearer not.a.jwt' }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['empty bearer', { authorization: 'Bearer ' }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['forged cookie', { cookie: `${ACCESS_COOKIE}=${handMade({ alg: 'none' }, claims, null)}` }, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['the admin token is not a buyer', asAdmin, { productId: product.id, quantity: 1 }, 401, ErrorCode.UNAUTHENTICATED],
    ['userId in the body (guest)', {}, { productId: product.id, quantity: 1, userId: 'victim' }, 400, ErrorCode.VALIDATION_FAILED],
    ['userId in the body (signed in)', asBuyer('mallory'), { productId: product.id, quantity: 1, userId: 'victim' }, 400, ErrorCode.VALIDATION_FAILED],
    ['a guest on a product with a per-user limit', {}, { productId: limited.id, quantity: 1 }, 401, ErrorCode.SIGN_IN_REQUIRED]
  ]
  for (const [name, headers, body, status, code] of cases) {
    const res = await post(app, body, headers)
    t.equal(res.statusCode, status, `${name}: ${status}`)
    t.equal(res.json().code, code, `${name}: ${code} (${res.json().message})`)
    if (code === ErrorCode.VALIDATION_FAILED) t.match(res.json().message, /body\/userId/, `${name}: names body/userId`)
  }
  for (const [name, headers] of cases.slice(0, 11)) {
    t.equal((await get('/orders', headers)).statusCode, 401, `GET /orders with ${name}: 401`)
  }
  t.same(await stack.store.snapshot(product.id), beforeStock, 'Redis: stock, ledger and users of the product unchanged')
  t.same(await stack.store.snapshot(limited.id), beforeLimited)
  t.equal(await stack.store.heldBy(product.id, 'mallory'), 0)
  t.equal(await stack.store.heldBy(product.id, 'victim'), 0)
  t.equal((await reader.waitFor((r) => r.message.productId === product.id || r.message.productId === limited.id, 1, 1500)).length, 0, 'Kafka: nothing published')
})
