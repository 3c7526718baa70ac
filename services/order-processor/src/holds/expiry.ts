import type { Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { orderRecord, MessageType, SCHEMA_VERSION, type Kafka, type OrderExpireDue, type Pool } from '@flash/common'
import type { OrdersRepository } from '../orders/repository.ts'

// The expiry scan (docs/ARCHITECTURE.md §8): every PAYMENT_EXPIRY_SCAN_MS each processor asks MySQL
// for held orders past their deadline and publishes `order.expire-due` for them on `orders`, keyed by
// order id. The batch applies it like any other change of the order, in partition order with the
// order's payment, so a payment and its expiry have exactly one outcome, and a crash anywhere is
// replayed by Kafka. MySQL is the clock's memory: a restarted processor finds every overdue hold again.

export interface HoldExpiryOptions {
  pool: Pool
  kafka: Kafka
  topic: string
  repository: OrdersRepository
  intervalMs: number
  log: Logger
  /** orders published per scan at most (the rest follow on the next scans) */
  batchSize?: number
  now?: () => number
}

/** An order announced as due is not announced again for this long (the batch applies it meanwhile). */
const REANNOUNCE_MS = 5000

export class HoldExpiry {
  readonly #o: HoldExpiryOptions
  readonly #producer: Producer
  readonly #announced = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #scanning: Promise<void> | undefined
  #stopped = false

  constructor (options: HoldExpiryOptions) {
    this.#o = options
    this.#producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
  }

  async start (): Promise<void> {
    await this.#producer.connect()
    this.#schedule()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#scanning
    await this.#producer.disconnect().catch(() => {})
  }

  #schedule (): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#scanning = this.scan().then(() => {}, (err: unknown) => this.#o.log.warn({ err }, 'hold expiry scan failed; retrying'))
        .finally(() => { this.#scanning = undefined; this.#schedule() })
    }, this.#o.intervalMs)
  }

  /** One scan: announces every overdue hold not announced in the last few seconds; returns how many. */
  async scan (): Promise<number> {
    const now = (this.#o.now ?? Date.now)()
    for (const [id, at] of this.#announced) if (now - at > REANNOUNCE_MS) this.#announced.delete(id)
    const due = (await this.#o.repository.dueHolds(this.#o.pool, new Date(now), this.#o.batchSize ?? 1000))
      .filter((o) => !this.#announced.has(o.id))
    if (due.length === 0) return 0
    const requestId = `expiry-${now}`
    await this.#producer.send({
      topic: this.#o.topic,
      acks: -1,
      messages: due.map((o) => orderRecord({
        type: MessageType.ORDER_EXPIRE_DUE,
        version: SCHEMA_VERSION,
        orderId: o.id,
        productId: o.productId,
        requestId,
        payBy: o.payBy.toISOString()
      } satisfies OrderExpireDue))
    })
    for (const o of due) this.#announced.set(o.id, now)
    this.#o.log.info({ orders: due.length }, 'holds past their deadline announced for expiry')
    return due.length
  }
}
