import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse } from '@flash/common'
import { WebhookHeaders, WebhookReceived } from '../schemas.ts'
import type { WebhookEvents } from '../payments/webhook.ts'

/** The provider's webhook: the signature covers the exact bytes, so this scope keeps the body raw. */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ events: WebhookEvents }> = async (app, { events }) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

  app.post('/payments/webhook', {
    schema: {
      tags: ['webhook'],
      summary: 'Stripe\'s events (payment_intent.succeeded, payment_intent.payment_failed, charge.refunded), verified by signature',
      description: '200 once the event is committed (a redelivery of the same event: 200, nothing changes). A signature that does not verify with the webhook secret, is older than the tolerance, or an event id seen before with another body: 400 WEBHOOK_SIGNATURE_INVALID, nothing changes. MySQL down: 503, and the provider retries.',
      headers: WebhookHeaders,
      body: { type: 'object', additionalProperties: true, description: 'a Stripe event (the raw JSON is what the signature covers)' },
      response: { 200: WebhookReceived, 400: ErrorResponse, 415: ErrorResponse, 503: ErrorResponse }
    },
    // The body is a Buffer here: its JSON is parsed by the provider's SDK after the signature check.
    validatorCompiler: () => () => true
  }, async (request) => {
    const outcome = await events.receive(request.body as unknown as Buffer, request.headers['stripe-signature'], request.id)
    return { received: true as const, outcome }
  })
}
