import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse, buyerSecurity, type Callers } from '@flash/common'
import { OpenPaymentBody, Payment, PaymentParams, PaymentsConfig, ReceiptHeaders, SandboxConfirmAccepted, SandboxConfirmBody } from '../schemas.ts'
import type { Payments } from '../payments/payments.ts'
import { TEST_CARDS, type Sandbox } from '../payments/sandbox.ts'

export interface PaymentRoutesOptions {
  payments: Payments
  callers: Callers
  sandbox: Sandbox | null
  currency: string
}

const tags = ['payments']
/** who may pay or read a payment: the order's buyer or the holder of its receipt */
const payerSecurity = [...buyerSecurity, { orderReceipt: [] as string[] }]

export const paymentRoutes: FastifyPluginAsyncTypebox<PaymentRoutesOptions> = async (app, { payments, callers, sandbox, currency }) => {
  app.get('/payments/config', {
    schema: { tags, summary: 'How payments are taken here: sandbox mode, its test cards, the currency', response: { 200: PaymentsConfig } }
  }, async () => ({ sandbox: sandbox !== null, currency, testCards: sandbox === null ? [] : TEST_CARDS.map((c) => ({ ...c })) }))

  app.post('/payments', {
    schema: {
      tags,
      summary: 'Open the payment of an order awaiting payment (201), or answer its open one (200)',
      description: 'The order must be `awaiting_payment` and before its `payBy` (else 409 ORDER_NOT_PAYABLE with its `status`). Its buyer (bearer token or session cookie) or, for a guest order, the holder of its receipt (`X-Order-Receipt`); anyone else: 404.',
      security: payerSecurity,
      headers: ReceiptHeaders,
      body: OpenPaymentBody,
      response: { 200: Payment, 201: Payment, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request, reply) => {
    const caller = callers.of(request, { admin: false })
    const receipt = request.headers['x-order-receipt']
    const { created, view } = await payments.open(request.body.orderId, (order) => callers.mayAccess(caller, order, receipt))
    return reply.code(created ? 201 : 200).send(view)
  })

  app.get('/payments/:id', {
    schema: {
      tags,
      summary: 'One payment and its state (its order\'s buyer, receipt holder or the admin; anyone else: 404)',
      security: payerSecurity,
      params: PaymentParams,
      headers: ReceiptHeaders,
      response: { 200: Payment, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request) => {
    const caller = callers.of(request, { admin: true })
    const { payment, order } = await payments.read(request.params.id, (o) => callers.mayAccess(caller, o, request.headers['x-order-receipt']))
    return payments.view(payment, order, false)
  })

  if (sandbox === null) return
  app.post('/payments/:id/sandbox-confirm', {
    schema: {
      tags,
      summary: 'Sandbox only: pay with a test card; the outcome arrives as the provider\'s signed webhook event',
      security: payerSecurity,
      params: PaymentParams,
      headers: ReceiptHeaders,
      body: SandboxConfirmBody,
      response: { 202: SandboxConfirmAccepted, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse }
    }
  }, async (request, reply) => {
    const caller = callers.of(request, { admin: false })
    const { payment, order } = await payments.read(request.params.id, (o) => callers.mayAccess(caller, o, request.headers['x-order-receipt']))
    await payments.confirm(payment, order, request.body.paymentMethod)
    sandbox.deliver(payment, request.body.paymentMethod)
    return reply.code(202).send({ paymentId: payment.id, status: 'processing' as const, message: 'confirmed with a test card; the outcome follows as a webhook event' })
  })
}
