import t from 'tap'
import { createAccessTokenSigner } from '@flash/common'
import { buildApp as buildGateway } from '../../order-gateway/src/app.ts'
import {
  createStack, startProcessor, waitForOrders, waitForStatus, orderRows, sqlStock, until, gatewayConfigFor, settledSnapshot
} from './helper.ts'
import { createProduct } from '@flash/common/test-support'

// The whole order path through the real gateway app (reserve in Redis, publish to Kafka, 202) and the
// real processor (batch into MySQL, settle Redis), on this file's own topic: I1–I5 at once.

const AUTH_JWT_SECRET = 'processor-e2e-test-auth-secret-0123456789'
const stack = await createStack('e2e')
const processor = await startProcessor(stack)
const gateway = await buildGateway(gatewayConfigFor(stack, { AUTH_JWT_SECRET, ADMIN_TOKEN: 'processor-e2e-admin-token' }))
// The gateway takes the buyer from a signed token, so these buyers are signed in (tokens made the way
// the catalog's login makes them)
const signAccessToken = createAccessTokenSigner(AUTH_JWT_SECRET)
const asBuyer = (id: string) => ({ authorization: `Bearer ${signAccessToken({ id, username: id })}` })
t.teardown(async () => {
  await gateway.close()
  await processor.close()
  await stack.close()
})
await until(async () => (await gateway.inject({ url: '/health/ready' })).statusCode === 200, 30_000, 'the gateway is ready')

t.test('2,000 concurrent buyers for 100 units: exactly 100 confirmed, both stocks 0, every 202 final', async (t) => {
  const productId = (await createProduct(stack, { stock: 100 })).id
  const responses = await Promise.all(Array.from({ length: 2000 }, (_, i) => gateway.inject({
    method: 'POST',
    url: '/orders',
    headers: asBuyer(`buyer-${i}`),
    payload: { productId, quantity: 1 }
  })))
  const accepted = responses.filter((r) => r.statusCode === 202).map((r) => r.json() as { orderId: string })
  const refused = responses.filter((r) => r.statusCode === 409)
  t.equal(accepted.length, 100, 'exactly the units on sale were accepted (no false sold-out, no oversell)')
  t.equal(refused.length, 1900, 'everyone else is told it is sold out')
  const ids = accepted.map((a) => a.orderId)
  t.equal(new Set(ids).size, ids.length, 'no order id twice')

  const rows = await waitForOrders(stack, ids)
  t.equal(rows.length, 100, 'every 202 reached MySQL')
  t.ok(rows.every((r) => r.status === 'confirmed'), 'all confirmed')
  t.equal(rows.reduce((s, r) => s + r.quantity, 0), 100, '100 units confirmed')
  t.equal(await sqlStock(stack, productId), 0, 'MySQL stock 0')
  const snap = await settledSnapshot(stack, productId)
  t.equal(snap.available, 0, 'Redis stock 0')
  t.equal(snap.ledger.length, 0, 'no reservation left pending')
  const [one] = ids
  const read = await gateway.inject({ url: `/orders/${one}`, headers: { authorization: 'Bearer processor-e2e-admin-token' } })
  t.match(read.json(), { orderId: one, status: 'confirmed' }, 'the gateway reads the final state')
})

t.test('a cancellation through the gateway returns the unit to MySQL and Redis once', async (t) => {
  const productId = (await createProduct(stack, { stock: 5 })).id
  const placed = await gateway.inject({ method: 'POST', url: '/orders', headers: asBuyer('returner'), payload: { productId, quantity: 2 } })
  t.equal(placed.statusCode, 202)
  const { orderId } = placed.json() as { orderId: string }
  await waitForStatus(stack, orderId, 'confirmed')
  t.equal(await sqlStock(stack, productId), 3)
  const cancels = await Promise.all([1, 2].map(() => gateway.inject({ method: 'DELETE', url: `/orders/${orderId}`, headers: asBuyer('returner') })))
  t.ok(cancels.every((c) => c.statusCode === 202), 'both requests queued')
  await waitForStatus(stack, orderId, 'cancelled')
  await until(async () => (await stack.store.snapshot(productId)).available === 5, 30_000, 'Redis gets the units back')
  const [row] = await orderRows(stack, [orderId])
  t.equal(row?.reason, 'cancelled by customer')
  t.equal(await sqlStock(stack, productId), 5, 'MySQL +2 once')
  t.equal((await stack.store.snapshot(productId)).available, 5, 'Redis +2 once')
  t.equal(await stack.store.heldBy(productId, 'returner'), 0)
  const again = await gateway.inject({ method: 'DELETE', url: `/orders/${orderId}`, headers: asBuyer('returner') })
  t.equal(again.statusCode, 409, 'a cancelled order cannot be cancelled again')
})
