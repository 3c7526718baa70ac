import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { sleep } from '@flash/common'
import type { PaymentProvider } from '../provider/provider.ts'
import type { PaymentRecord } from './repository.ts'

// Sandbox mode (PAYMENTS_SANDBOX=1): what Stripe's test cards would do. stripe-mock answers the API
// but sends no events, so after a confirm the sandbox builds the event Stripe would send, signs it
// with the webhook secret in Stripe's scheme and delivers it to the webhook route — which cannot tell
// it from Stripe's. Deliveries are retried with backoff like the provider's, a bounded number of times.

export const TEST_CARDS = [
  { paymentMethod: 'pm_card_visa', outcome: 'succeeds', label: 'Visa •••• 4242' },
  { paymentMethod: 'pm_card_chargeDeclined', outcome: 'declined', label: 'Visa •••• 0002 (declined)' }
] as const
export type TestPaymentMethod = typeof TEST_CARDS[number]['paymentMethod']

const DELIVERY_DELAYS_MS = [0, 250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000]

export interface SandboxOptions { provider: PaymentProvider, webhookUrl: string, log: Logger }

/** The event body Stripe would send for this payment's outcome. */
export function sandboxEvent (payment: Pick<PaymentRecord, 'id' | 'orderId' | 'amount' | 'currency'>, outcome: 'succeeds' | 'declined', nowMs: number): string {
  const succeeded = outcome === 'succeeds'
  return JSON.stringify({
    id: `evt_sandbox_${randomBytes(12).toString('hex')}`,
    object: 'event',
    created: Math.floor(nowMs / 1000),
    livemode: false,
    type: succeeded ? 'payment_intent.succeeded' : 'payment_intent.payment_failed',
    data: {
      object: {
        id: payment.id,
        object: 'payment_intent',
        amount: payment.amount,
        amount_received: succeeded ? payment.amount : 0,
        currency: payment.currency,
        status: succeeded ? 'succeeded' : 'requires_payment_method',
        metadata: { orderId: payment.orderId },
        last_payment_error: succeeded ? null : { code: 'card_declined', message: 'Your card was declined.' }
      }
    }
  })
}

export class Sandbox {
  readonly #o: SandboxOptions
  readonly #inFlight = new Set<Promise<void>>()
  #closed = false

  constructor (options: SandboxOptions) {
    this.#o = options
  }

  /** Delivers the outcome's event in the background (the confirm answers 202 at once). */
  deliver (payment: PaymentRecord, paymentMethod: TestPaymentMethod): void {
    const card = TEST_CARDS.find((c) => c.paymentMethod === paymentMethod) ?? TEST_CARDS[1]
    const body = sandboxEvent(payment, card.outcome, Date.now())
    const delivery = this.#send(body).finally(() => this.#inFlight.delete(delivery))
    this.#inFlight.add(delivery)
  }

  async close (): Promise<void> {
    this.#closed = true
    await Promise.allSettled([...this.#inFlight])
  }

  async #send (body: string): Promise<void> {
    for (const delay of DELIVERY_DELAYS_MS) {
      if (delay > 0) await sleep(delay)
      if (this.#closed) return
      try {
        // Signed at each attempt, as the provider does: a retry is not refused as too old.
        const res = await fetch(this.#o.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': this.#o.provider.sign(body) },
          body,
          signal: AbortSignal.timeout(10_000)
        })
        await res.arrayBuffer()
        if (res.ok) return
        this.#o.log.warn({ status: res.status }, 'sandbox event not accepted; retrying')
      } catch (err) {
        this.#o.log.warn({ err }, 'sandbox event not delivered; retrying')
      }
    }
    this.#o.log.error('sandbox event given up after every retry')
  }
}
