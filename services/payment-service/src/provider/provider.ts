import { AppError, ErrorCode } from '@flash/common'

// The payment provider as the service needs it: a small interface, so another provider is another
// adapter (provider/stripe.ts is the first). Amounts are integer minor units everywhere.

export interface CreatedPayment { id: string, clientSecret: string | null }

/** A provider event verified by its signature, reduced to what payments act on. */
export interface ProviderEvent {
  id: string
  /** the provider's own type name (payment_intent.succeeded, charge.refunded, …) */
  providerType: string
  kind: 'succeeded' | 'failed' | 'refunded' | 'other'
  paymentId: string | null
  amount: number | null
  currency: string | null
  failure: string | null
}

export interface PaymentProvider {
  readonly name: string
  create (input: { orderId: string, amount: number, currency: string, idempotencyKey: string }): Promise<CreatedPayment>
  /** sandbox: confirm with a test payment method (the outcome then arrives as an event) */
  confirm (paymentId: string, paymentMethod: string): Promise<void>
  /** refunds the whole payment; the same key never refunds twice */
  refund (paymentId: string, idempotencyKey: string): Promise<{ refundId: string, done: boolean }>
  /** verifies the signature over the exact bytes received; throws WebhookSignatureError */
  verify (body: Buffer, signature: string | undefined): ProviderEvent
  /** sandbox: the signature header the provider would send with this body (now, or at `timestamp` s) */
  sign (body: string, timestamp?: number): string
}

export class WebhookSignatureError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'WebhookSignatureError'
  }
}

/** The provider did not answer (network, 5xx, rate limit): nothing is known to have happened; retry (503). */
export class ProviderUnavailableError extends AppError {
  constructor (message: string, options?: { cause?: unknown }) {
    super(503, ErrorCode.PAYMENT_PROVIDER_UNAVAILABLE, message, { headers: { 'retry-after': '1' }, cause: options?.cause })
    this.name = 'ProviderUnavailableError'
  }
}
