import type { Producer } from 'kafkajs'
import { orderRecord, MessageType, SCHEMA_VERSION, type Kafka, type OrderPaid } from '@flash/common'

// Tells the processor (the only writer of orders) that a payment succeeded: `order.paid` on `orders`,
// keyed by order id, so it lands on the order's partition behind everything else about the order.

export interface PaidNotice { paymentId: string, orderId: string, productId: number, amount: number, currency: string }

export class PaidNotifier {
  readonly #producer: Producer
  readonly #topic: string
  #connected = false

  constructor (kafka: Kafka, topic: string) {
    this.#topic = topic
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
    this.#producer.on(this.#producer.events.CONNECT, () => { this.#connected = true })
    this.#producer.on(this.#producer.events.DISCONNECT, () => { this.#connected = false })
  }

  get connected (): boolean { return this.#connected }

  async connect (): Promise<void> { await this.#producer.connect() }
  async close (): Promise<void> { await this.#producer.disconnect().catch(() => {}) }

  /** Resolves once Kafka acknowledged every notice (acks=all). */
  async send (notices: PaidNotice[], requestId: string): Promise<void> {
    if (notices.length === 0) return
    const paidAt = new Date().toISOString()
    await this.#producer.send({
      topic: this.#topic,
      acks: -1,
      timeout: 5000,
      messages: notices.map((n) => orderRecord({
        type: MessageType.ORDER_PAID,
        version: SCHEMA_VERSION,
        orderId: n.orderId,
        productId: n.productId,
        paymentId: n.paymentId,
        amount: n.amount,
        currency: n.currency,
        requestId,
        paidAt
      } satisfies OrderPaid))
    })
  }
}
