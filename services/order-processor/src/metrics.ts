import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** What the processor reports on /metrics, beside the platform's defaults. */
export function createProcessorMetrics (registry: Registry) {
  const registers = [registry]
  return {
    lag: new Gauge({ name: 'processor_consumer_lag', help: 'messages behind the high watermark, per assigned partition', labelNames: ['topic', 'partition'] as const, registers }),
    batchSize: new Histogram({ name: 'processor_batch_size', help: 'messages applied per MySQL transaction', buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500], registers }),
    batchDuration: new Histogram({ name: 'processor_batch_duration_seconds', help: 'time to apply one batch (Redis claims, MySQL transaction, Redis effects)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers }),
    confirmed: new Counter({ name: 'processor_orders_confirmed_total', help: 'orders written confirmed', registers }),
    failed: new Counter({ name: 'processor_orders_failed_total', help: 'orders written failed, by reason', labelNames: ['reason'] as const, registers }),
    replayed: new Counter({ name: 'processor_orders_replayed_total', help: 'order.placed already applied (redelivery, replay)', registers }),
    compensated: new Counter({ name: 'processor_units_compensated_total', help: 'units of failed orders put back on sale in Redis', registers }),
    cancelled: new Counter({ name: 'processor_orders_cancelled_total', help: 'confirmed orders cancelled', registers }),
    returned: new Counter({ name: 'processor_units_returned_total', help: 'units of cancelled orders put back on sale in Redis', registers }),
    held: new Counter({ name: 'processor_orders_held_total', help: 'orders written awaiting payment (units held until payBy)', registers }),
    paid: new Counter({ name: 'processor_orders_paid_total', help: 'held orders paid', registers }),
    expired: new Counter({ name: 'processor_orders_expired_total', help: 'held orders expired unpaid (units back on sale)', registers }),
    latePayments: new Counter({ name: 'processor_late_payments_total', help: 'payments for orders that could not take them (refunded by the payment-service)', registers }),
    deadLettered: new Counter({ name: 'processor_dlq_messages_total', help: 'messages sent to the dead-letter topic', registers }),
    retries: new Counter({ name: 'processor_batch_retries_total', help: 'batch attempts that failed and were retried', labelNames: ['transient'] as const, registers })
  }
}

export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>
