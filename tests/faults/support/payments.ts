import { request } from 'undici'
import type { RowDataPacket } from 'mysql2/promise'
import { waitUntil, availableOnceEqual } from '@flash/common/test-support'
import { StripeProvider } from '../../../services/payment-service/src/provider/stripe.ts'
import { GATEWAY, PAYMENTS, type Clients } from './stack.ts'

// Buying and paying on the running stack as a guest and as Stripe would: orders through the gateway,
// payments through the payment-service, and the provider's events signed with the endpoint's secret
// (.env.example's local-only one, which `make local` runs with).

const provider = new StripeProvider({
  secretKey: 'sk_test_faults', webhookSecret: process.env.STRIPE_WEBHOOK_SECRET ?? 'whsec_local_only_flash_sale', apiUrl: '', toleranceSeconds: 300
})

export interface GuestOrder { orderId: string, receipt: string }

async function post<T> (url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: T }> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), headersTimeout: 30_000, bodyTimeout: 30_000 })
  const text = await res.body.text()
  return { status: res.statusCode, body: (text === '' ? null : JSON.parse(text)) as T }
}

export async function placeGuestOrder (productId: number, quantity = 1): Promise<GuestOrder> {
  const res = await post<{ orderId: string, receipt: string }>(`${GATEWAY}/orders`, { productId, quantity })
  if (res.status !== 202) throw new Error(`order refused: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

export async function orderStatus (clients: Clients, orderId: string): Promise<RowDataPacket | undefined> {
  const [rows] = await clients.mysql.query<RowDataPacket[]>('SELECT * FROM orders WHERE id = ?', [orderId])
  return rows[0]
}

export async function waitForStatus (clients: Clients, orderId: string, status: string, timeoutMs = 60_000): Promise<RowDataPacket> {
  return await waitUntil(`order ${orderId} is ${status}`, async () => {
    const row = await orderStatus(clients, orderId).catch(() => undefined)
    return row?.status === status ? row : undefined
  }, timeoutMs, 200)
}

/** Redis's available stock once it follows MySQL to `expected` (or at the bound). */
export const redisAvailable = async (clients: Clients, productId: number, expected: number): Promise<number | null> =>
  await availableOnceEqual(clients.store, productId, expected)

/** Opens the order's payment; returns its id and amount. */
export async function openPayment (order: GuestOrder): Promise<{ paymentId: string, amount: number }> {
  const res = await post<{ paymentId: string, amount: number }>(`${PAYMENTS}/payments`, { orderId: order.orderId }, { 'x-order-receipt': order.receipt })
  if (res.status !== 201 && res.status !== 200) throw new Error(`payment not opened: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

/** A payment_intent.succeeded event body, signed at delivery time as Stripe signs each attempt. */
export function succeededEvent (paymentId: string, amount: number, orderId: string): string {
  return JSON.stringify({
    id: `evt_fault_${paymentId}`,
    object: 'event',
    created: Math.floor(Date.now() / 1000),
    type: 'payment_intent.succeeded',
    data: { object: { id: paymentId, object: 'payment_intent', amount, currency: 'cny', status: 'succeeded', metadata: { orderId } } }
  })
}

/** Delivers an event to the webhook as Stripe does; returns the HTTP status (0: no answer). */
export async function deliverEvent (body: string): Promise<number> {
  try {
    return (await post(`${PAYMENTS}/payments/webhook`, body, { 'stripe-signature': provider.sign(body) })).status
  } catch {
    return 0
  }
}
