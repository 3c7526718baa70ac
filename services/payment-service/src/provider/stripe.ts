import Stripe from 'stripe'
import { WebhookSignatureError, ProviderUnavailableError, type PaymentProvider, type ProviderEvent, type CreatedPayment } from './provider.ts'

// Stripe's PaymentIntents API through the official SDK. With STRIPE_API_URL it talks to stripe-mock
// (Stripe's own mock: real request validation and response shapes, no state, no events); without it,
// to Stripe. Webhook signatures are verified by the SDK's constructEvent, nothing hand-written.

export interface StripeOptions {
  secretKey: string
  webhookSecret: string
  /** '' for Stripe itself */
  apiUrl: string
  toleranceSeconds: number
}

type PaymentObject = { id?: unknown, object?: unknown, amount?: unknown, currency?: unknown, payment_intent?: unknown, last_payment_error?: { message?: unknown } | null }

const KINDS: Record<string, ProviderEvent['kind']> = {
  'payment_intent.succeeded': 'succeeded',
  'payment_intent.payment_failed': 'failed',
  'charge.refunded': 'refunded'
}

const str = (value: unknown): string | null => typeof value === 'string' && value !== '' ? value : null

export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe'
  readonly #stripe: Stripe
  readonly #o: StripeOptions

  constructor (options: StripeOptions) {
    this.#o = options
    const url = options.apiUrl === '' ? null : new URL(options.apiUrl)
    this.#stripe = new Stripe(options.secretKey, {
      maxNetworkRetries: 2,
      timeout: 10_000,
      telemetry: false,
      ...(url === null
        ? {}
        : { host: url.hostname, port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port), protocol: url.protocol === 'https:' ? 'https' : 'http' })
    })
  }

  async create (input: { orderId: string, amount: number, currency: string, idempotencyKey: string }): Promise<CreatedPayment> {
    const intent = await this.#call(() => this.#stripe.paymentIntents.create({
      amount: input.amount,
      currency: input.currency,
      metadata: { orderId: input.orderId },
      automatic_payment_methods: { enabled: true }
    }, { idempotencyKey: input.idempotencyKey }))
    return { id: intent.id, clientSecret: intent.client_secret ?? null }
  }

  async confirm (paymentId: string, paymentMethod: string): Promise<void> {
    await this.#call(() => this.#stripe.paymentIntents.confirm(paymentId, { payment_method: paymentMethod }))
  }

  async refund (paymentId: string, idempotencyKey: string): Promise<{ refundId: string, done: boolean }> {
    const refund = await this.#call(() => this.#stripe.refunds.create({ payment_intent: paymentId }, { idempotencyKey }))
    return { refundId: refund.id, done: refund.status === 'succeeded' }
  }

  verify (body: Buffer, signature: string | undefined): ProviderEvent {
    if (signature === undefined || signature === '') throw new WebhookSignatureError('the Stripe-Signature header is missing')
    let event: Stripe.Event
    try {
      event = this.#stripe.webhooks.constructEvent(body, signature, this.#o.webhookSecret, this.#o.toleranceSeconds)
    } catch (error) {
      throw new WebhookSignatureError((error as Error).message)
    }
    const object = (event.data?.object ?? {}) as PaymentObject
    // A refund event carries the charge: its payment is the charge's payment_intent.
    const paymentId = object.object === 'charge' ? str(object.payment_intent) : str(object.id)
    return {
      id: event.id,
      providerType: event.type,
      kind: KINDS[event.type] ?? 'other',
      paymentId,
      amount: typeof object.amount === 'number' ? object.amount : null,
      currency: str(object.currency),
      failure: str(object.last_payment_error?.message)
    }
  }

  sign (body: string, timestamp?: number): string {
    return this.#stripe.webhooks.generateTestHeaderString({ payload: body, secret: this.#o.webhookSecret, ...(timestamp === undefined ? {} : { timestamp }) })
  }

  /**
   * The SDK's errors become one 503: the buyer can only retry, whether Stripe did not answer or refused
   * our key (the cause, logged, tells the operator which).
   */
  async #call<T> (request: () => Promise<T>): Promise<T> {
    try {
      return await request()
    } catch (error) {
      if (error instanceof Stripe.errors.StripeError) {
        throw new ProviderUnavailableError(`the payment provider did not complete the request (${error.type})`, { cause: error })
      }
      throw error
    }
  }
}
