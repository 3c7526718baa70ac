import { createAccessTokenSigner, type App } from '@flash/common'
import { waitUntil, createProduct, availableOnceEqual } from '@flash/common/test-support'
import type { RowDataPacket } from 'mysql2/promise'
import { loadGatewayConfig } from '../../order-gateway/src/config.ts'
import { buildApp as buildGateway } from '../../order-gateway/src/app.ts'
import { createStack, startProcessor, freePort, type Stack } from '../../order-processor/test/helper.ts'
import { loadPaymentConfig, type PaymentServiceConfig } from '../src/config.ts'
import { buildApp as buildPayments, type PaymentDeps } from '../src/app.ts'
import { StripeProvider } from '../src/provider/stripe.ts'

// The whole payment path on this file's own Kafka topic: the real gateway (reserve, publish), the real
// processor (hold, paid, expiry), the real payment-service against stripe-mock (make local's, :12111).

export const AUTH_JWT_SECRET = 'payment-test-auth-secret-0123456789abcdef'
export const ADMIN_TOKEN = 'payment-test-admin-token'
export const WEBHOOK_SECRET = 'whsec_payment_test_secret'
const signAccessToken = createAccessTokenSigner(AUTH_JWT_SECRET)
export const asBuyer = (id: string): Record<string, string> => ({ authorization: `Bearer ${signAccessToken({ id, username: `name-of-${id}` })}` })

/** What signs events as Stripe would (the endpoint's secret) and verifies them as the service does. */
export const provider = new StripeProvider({
  secretKey: 'sk_test_paymenttests', webhookSecret: WEBHOOK_SECRET, apiUrl: process.env.STRIPE_API_URL ?? 'http://127.0.0.1:12111', toleranceSeconds: 300
})

export interface PaymentStack {
  stack: Stack
  gateway: App
  /** replaced by a test that restarts it (closed with the stack) */
  processor: App
  payments: App
  config: PaymentServiceConfig
  /** the port the payment-service listens on (the sandbox delivers its events there) */
  port: number
  close: () => Promise<void>
}

export async function startPaymentStack (name: string, options: { processor?: Record<string, unknown>, payments?: PaymentDeps } = {}): Promise<PaymentStack> {
  const stack = await createStack(name)
  const processor = await startProcessor(stack, { PAYMENT_EXPIRY_SCAN_MS: 100, ...options.processor })
  const shared = {
    ...process.env,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    KAFKA_ORDERS_TOPIC: stack.config.KAFKA_ORDERS_TOPIC,
    KAFKA_DLQ_TOPIC: stack.config.KAFKA_DLQ_TOPIC,
    AUTH_JWT_SECRET,
    ADMIN_TOKEN
  }
  const gateway = await buildGateway(loadGatewayConfig({ ...shared, RATE_LIMIT_MAX: '100000000', OVERLOAD_EVENT_LOOP_DELAY_MS: '0' }))
  const port = await freePort()
  const config = loadPaymentConfig({
    ...shared,
    PAYMENT_PORT: String(port),
    STRIPE_SECRET_KEY: 'sk_test_paymenttests',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_URL: process.env.STRIPE_API_URL ?? 'http://127.0.0.1:12111',
    PAYMENTS_SANDBOX: '1',
    PAYMENTS_WEBHOOK_URL: `http://127.0.0.1:${port}/payments/webhook`,
    PAYMENT_SETTLE_INTERVAL_MS: '100'
  })
  const payments = await buildPayments(config, options.payments)
  await payments.listen({ host: '127.0.0.1', port })
  await waitUntil('the gateway is ready', async () => (await gateway.inject({ url: '/health/ready' })).statusCode === 200 || undefined, 30_000)
  const paymentStack: PaymentStack = {
    stack,
    gateway,
    processor,
    payments,
    config,
    port,
    close: async () => {
      await payments.close()
      await gateway.close()
      await paymentStack.processor.close()
      await stack.close()
    }
  }
  return paymentStack
}

export interface HeldOrder { orderId: string, productId: number, receipt: string, amount: number, payBy: Date }

/** A priced product, and one accepted order of it that the processor has written `awaiting_payment`. */
export async function heldOrder (s: PaymentStack, spec: { price?: number, quantity?: number, stock?: number, windowSeconds?: number, buyer?: string } = {}): Promise<HeldOrder> {
  const product = await createProduct(s.stack, { stock: spec.stock ?? 10, price: spec.price ?? 1250, paymentWindowSeconds: spec.windowSeconds ?? 600 })
  return await orderOf(s, product.id, spec.quantity ?? 1, spec.buyer)
}

export async function orderOf (s: PaymentStack, productId: number, quantity: number, buyer?: string): Promise<HeldOrder> {
  const res = await s.gateway.inject({ method: 'POST', url: '/orders', headers: buyer === undefined ? {} : asBuyer(buyer), payload: { productId, quantity } })
  if (res.statusCode !== 202) throw new Error(`order refused: ${res.statusCode} ${res.body}`)
  const { orderId, receipt } = res.json() as { orderId: string, receipt?: string }
  const row = await waitForOrderStatus(s, orderId, ['awaiting_payment', 'confirmed'])
  return { orderId, productId, receipt: receipt ?? '', amount: Number(row.amount), payBy: row.pay_by as Date }
}

export async function orderRow (s: PaymentStack, orderId: string): Promise<RowDataPacket | undefined> {
  const [rows] = await s.stack.mysql.query<RowDataPacket[]>('SELECT * FROM orders WHERE id = ?', [orderId])
  return rows[0]
}

export async function paymentRows (s: PaymentStack, orderId: string): Promise<RowDataPacket[]> {
  const [rows] = await s.stack.mysql.query<RowDataPacket[]>('SELECT * FROM payments WHERE order_id = ? ORDER BY created_at', [orderId])
  return rows
}

export async function waitForOrderStatus (s: PaymentStack, orderId: string, statuses: string[], timeoutMs = 30_000): Promise<RowDataPacket> {
  return await waitUntil(`order ${orderId} is ${statuses.join(' or ')}`, async () => {
    const row = await orderRow(s, orderId)
    return row !== undefined && statuses.includes(String(row.status)) ? row : undefined
  }, timeoutMs)
}

/** Redis's available stock once it follows MySQL to `expected` (or at the bound). */
export const redisAvailable = async (s: PaymentStack, productId: number, expected: number): Promise<number | null> =>
  await availableOnceEqual(s.stack.store, productId, expected)

export async function waitForPaymentStatus (s: PaymentStack, paymentId: string, statuses: string[], timeoutMs = 30_000): Promise<RowDataPacket> {
  return await waitUntil(`payment ${paymentId} is ${statuses.join(' or ')}`, async () => {
    const [rows] = await s.stack.mysql.query<RowDataPacket[]>('SELECT * FROM payments WHERE id = ?', [paymentId])
    return rows[0] !== undefined && statuses.includes(String(rows[0].status)) ? rows[0] : undefined
  }, timeoutMs)
}

/** Opens the order's payment as its receipt holder; returns the provider's payment id. */
export async function openPayment (s: PaymentStack, order: HeldOrder, headers: Record<string, string> = { 'x-order-receipt': order.receipt }): Promise<string> {
  const res = await s.payments.inject({ method: 'POST', url: '/payments', headers, payload: { orderId: order.orderId } })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`payment not opened: ${res.statusCode} ${res.body}`)
  return (res.json() as { paymentId: string }).paymentId
}

let eventCounter = 0
/** A Stripe event body for a payment (what Stripe would POST), and its signature header. */
export function stripeEvent (type: string, object: Record<string, unknown>, options: { id?: string, secret?: string, timestamp?: number } = {}): { body: string, signature: string } {
  const body = JSON.stringify({
    id: options.id ?? `evt_test_${Date.now()}_${++eventCounter}`,
    object: 'event',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type,
    data: { object }
  })
  const signer = options.secret === undefined
    ? provider
    : new StripeProvider({ secretKey: 'sk_test_x', webhookSecret: options.secret, apiUrl: '', toleranceSeconds: 300 })
  return { body, signature: signer.sign(body, options.timestamp) }
}

export const succeeded = (paymentId: string, amount: number, orderId: string, currency = 'cny'): Record<string, unknown> =>
  ({ id: paymentId, object: 'payment_intent', amount, amount_received: amount, currency, status: 'succeeded', metadata: { orderId } })

export async function deliver (s: PaymentStack, event: { body: string, signature: string }): Promise<{ statusCode: number, json: () => unknown }> {
  const res = await s.payments.inject({
    method: 'POST', url: '/payments/webhook', headers: { 'content-type': 'application/json', 'stripe-signature': event.signature }, payload: event.body
  })
  return { statusCode: res.statusCode, json: () => res.json() }
}

export { createProduct }
