import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { StockMemory } from './stock-memory/memory.ts'

/** What the gateway counts, beside the platform's request durations. */
export function gatewayMetrics (registry: Registry) {
  return {
    accepted: new Counter({ name: 'orders_accepted_total', help: 'orders answered 202 (Kafka acknowledged)', registers: [registry] }),
    replayed: new Counter({ name: 'orders_replayed_total', help: 'requests answered with the order of an earlier request with the same Idempotency-Key', registers: [registry] }),
    refused: new Counter({
      name: 'orders_refused_total',
      help: 'orders refused, by reason',
      labelNames: ['reason'] as const,
      registers: [registry]
    }),
    refusedFromMemory: new Counter({ name: 'orders_refused_from_memory_total', help: 'refusals answered from the gateway\'s stock memory, without a Redis call (also counted in orders_refused_total)', registers: [registry] }),
    publishFailures: new Counter({ name: 'order_publish_failures_total', help: 'publishes that failed or timed out', labelNames: ['type'] as const, registers: [registry] }),
    undone: new Counter({ name: 'order_reservations_undone_total', help: 'reservations given back after a failed publish', registers: [registry] }),
    cancelRequests: new Counter({ name: 'order_cancel_requests_total', help: 'cancellations accepted (published)', registers: [registry] }),
    /** gauges read from the stock memory when scraped */
    watchMemory: (memory: StockMemory): void => {
      new Gauge({ name: 'stock_memory_listening', help: '1 while the gateway hears stock announcements (refusals from memory allowed)', registers: [registry], collect () { this.set(memory.listening ? 1 : 0) } })
      new Gauge({ name: 'stock_memory_products', help: 'products the gateway remembers as (nearly) sold out', registers: [registry], collect () { this.set(memory.size) } })
    },
    batchSize: new Histogram({
      name: 'order_publish_batch_size',
      help: 'messages per Kafka produce call of the micro-batcher',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: [registry]
    })
  }
}

export type GatewayMetrics = ReturnType<typeof gatewayMetrics>
