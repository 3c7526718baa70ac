import { Counter, type Registry } from 'prom-client'

/** What the payment-service reports on /metrics, beside the platform's defaults. */
export function createPaymentMetrics (registry: Registry) {
  const registers = [registry]
  return {
    opened: new Counter({ name: 'payments_opened_total', help: 'payments opened at the provider', registers }),
    webhookEvents: new Counter({ name: 'payments_webhook_events_total', help: 'provider events received, by outcome (applied, duplicate, ignored, flagged, refused)', labelNames: ['outcome'] as const, registers }),
    settled: new Counter({ name: 'payments_settled_total', help: 'payments settled by the worker, by result (notified, paid, refunded)', labelNames: ['result'] as const, registers })
  }
}

export type PaymentMetrics = ReturnType<typeof createPaymentMetrics>
