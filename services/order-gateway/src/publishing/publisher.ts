import { Partitioners, type Kafka, type Producer, type Message } from 'kafkajs'
import type { Logger } from 'pino'
import { encodeMessage, REQUEST_ID_HEADER, type OrderMessage } from '@flash/common'
import { MicroBatcher } from './batcher.ts'

export class KafkaUnavailableError extends Error {
  constructor () {
    super('kafka producer is not connected')
    this.name = 'KafkaUnavailableError'
  }
}

export interface PublisherOptions {
  kafka: Kafka
  topic: string
  lingerMs: number
  maxBatch: number
  /** broker-side ack timeout of one produce request */
  ackTimeoutMs: number
  logger: Logger
  onBatch?: (size: number) => void
}

/**
 * Publishes order messages to the `orders` topic through a micro-batcher: key = order id (every message
 * of one order on one partition, in order), JSON value, `x-request-id` header. Idempotent producer,
 * acks=all. A caller's promise resolves only when Kafka acknowledged its message.
 *
 * The producer connects in the background (the gateway starts, and answers 503 on orders, while Kafka
 * is down) and is replaced by a fresh one after any failed send. The replacement is deliberate: kafkajs
 * rolls its sequence numbers back when a produce request fails, but if that request reached the broker
 * after all, the next batch would reuse the same sequence numbers and the broker would acknowledge it
 * as a duplicate without writing it — an accepted order lost (I2). A new producer id starts afresh.
 */
export class OrderPublisher {
  readonly #options: PublisherOptions
  readonly #log: Logger
  readonly #batcher: MicroBatcher<{ message: OrderMessage, requestId: string }>
  #producer: Producer | undefined
  #connecting: Producer | undefined
  #closed = false
  #wake: (() => void) | undefined

  constructor (options: PublisherOptions) {
    this.#options = options
    this.#log = options.logger.child({ component: 'publisher' })
    this.#batcher = new MicroBatcher({
      lingerMs: options.lingerMs,
      maxBatch: options.maxBatch,
      send: async (items) => this.#send(items),
      ...(options.onBatch ? { onBatch: options.onBatch } : {})
    })
  }

  /** true once a producer is connected and no send has failed since */
  get connected (): boolean { return this.#producer !== undefined }

  /** Starts connecting in the background; retries until connected or closed. */
  start (): void {
    void this.#connectLoop()
  }

  /** Resolves when Kafka acknowledged the message; rejects on failure or after `timeoutMs`. */
  publish (message: OrderMessage, requestId: string, timeoutMs: number): Promise<void> {
    return this.#batcher.submit({ message, requestId }, timeoutMs)
  }

  /** Flushes what is queued (graceful shutdown), then disconnects. */
  async close (): Promise<void> {
    await this.#batcher.close()
    this.#closed = true
    this.#wake?.()
    const producers = [this.#producer, this.#connecting]
    this.#producer = undefined
    await Promise.all(producers.map((p) => p?.disconnect().catch(() => {})))
  }

  #createProducer (): Producer {
    return this.#options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      // kafkajs' idempotent default is unlimited retries: with the broker gone, a send would hang
      // forever. A few retries make a send fail in bounded time; the request's own timeout
      // (PUBLISH_TIMEOUT_MS) is the backstop, and a failed send replaces the producer (see above).
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 }
    })
  }

  /** a back-off pause that close() cuts short */
  #pause (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#wake = () => { clearTimeout(timer); resolve() }
    })
  }

  async #connectLoop (): Promise<void> {
    if (this.#connecting !== undefined) return
    try {
      for (let attempt = 0; !this.#closed; attempt++) {
        const producer = this.#createProducer()
        this.#connecting = producer
        try {
          await producer.connect()
          if (this.#closed) {
            await producer.disconnect().catch(() => {})
            return
          }
          this.#producer = producer
          this.#log.info({ topic: this.#options.topic }, 'kafka producer connected')
          return
        } catch (err) {
          await producer.disconnect().catch(() => {})
          if (this.#closed) return
          this.#log.warn({ err, attempt }, 'kafka producer cannot connect; retrying')
          await this.#pause(Math.min(200 * 2 ** attempt, 5000))
        }
      }
    } finally {
      this.#connecting = undefined
    }
  }

  async #send (items: Array<{ message: OrderMessage, requestId: string }>): Promise<void> {
    const producer = this.#producer
    if (producer === undefined) throw new KafkaUnavailableError()
    const messages: Message[] = items.map(({ message, requestId }) => ({
      key: message.orderId,
      value: encodeMessage(message),
      headers: { [REQUEST_ID_HEADER]: requestId }
    }))
    try {
      await producer.send({ topic: this.#options.topic, acks: -1, timeout: this.#options.ackTimeoutMs, messages })
    } catch (err) {
      this.#log.warn({ err, batch: items.length }, 'kafka send failed; replacing the producer')
      if (this.#producer === producer) {
        this.#producer = undefined
        void producer.disconnect().catch(() => {})
        if (!this.#closed) this.start()
      }
      throw err
    }
  }
}
