import { Type, type Static } from '@sinclair/typebox'
// Subpaths, not '@flash/common': the front end type-checks this file, so no server code may come in.
import { PaymentStatus, OrderId } from '@flash/common/contracts'

// The payment-service's HTTP contract. Routes validate against these and /docs is generated from them.

export const PaymentId = Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9_]+$', description: 'the provider\'s payment id (pi_…)' })

export const OpenPaymentBody = Type.Object({ orderId: OrderId }, { additionalProperties: false })

export const Payment = Type.Object({
  paymentId: PaymentId,
  orderId: OrderId,
  status: PaymentStatus,
  amount: Type.Integer({ description: 'minor units' }),
  currency: Type.String({ description: 'lower-case ISO 4217' }),
  payBy: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'the order\'s payment deadline' }),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why it was declined, flagged or refunded' }),
  clientSecret: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'for the provider\'s client-side confirmation (Stripe.js)' })),
  sandbox: Type.Boolean({ description: 'the server runs in sandbox mode: confirm with a test card' })
})
export type Payment = Static<typeof Payment>

export const PaymentParams = Type.Object({ id: PaymentId })

export const SandboxConfirmBody = Type.Object({
  paymentMethod: Type.Union([Type.Literal('pm_card_visa'), Type.Literal('pm_card_chargeDeclined')], {
    description: 'a test card: pm_card_visa succeeds, pm_card_chargeDeclined is declined'
  })
}, { additionalProperties: false })

export const SandboxConfirmAccepted = Type.Object({
  paymentId: PaymentId,
  status: Type.Literal('processing'),
  message: Type.String()
})

export const PaymentsConfig = Type.Object({
  sandbox: Type.Boolean(),
  currency: Type.String(),
  testCards: Type.Array(Type.Object({
    paymentMethod: Type.String(),
    outcome: Type.Union([Type.Literal('succeeds'), Type.Literal('declined')]),
    label: Type.String()
  }))
})

export type PaymentsConfig = Static<typeof PaymentsConfig>

export const WebhookHeaders = Type.Object({
  'stripe-signature': Type.Optional(Type.String({ maxLength: 4096, description: 'Stripe\'s signature of the exact body: t=<timestamp>,v1=<HMAC-SHA256>' }))
})

export const WebhookReceived = Type.Object({
  received: Type.Literal(true),
  outcome: Type.Union([Type.Literal('applied'), Type.Literal('duplicate'), Type.Literal('ignored'), Type.Literal('flagged')])
})

export const ReceiptHeaders = Type.Object({
  'x-order-receipt': Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$', description: 'a guest order\'s receipt (from the order\'s 202)' }))
})
