import type { Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs'
import type { Logger } from 'pino'
import { decodeMessage, isTransientError, REQUEST_ID_HEADER, sleep, type DeadLetter, type Kafka, type OrderMessage } from '@flash/common'
import { failedTotal, type BatchOutcome } from './batch.ts'
import { unprocessableReason } from './decisions.ts'
import type { ProcessorMetrics } from './metrics.ts'

// Kafka wiring: a consumer group on `orders`, one transaction per chunk of a fetched batch, offsets
// resolved and committed only after the chunk's MySQL and Redis effects are done (I2). A failing chunk
// is retried with backoff for as long as this consumer owns the partition; it is never skipped.

export interface OrderConsumerOptions {
  kafka: Kafka
  groupId: string
  topic: string
  dlqTopic: string
  maxBatch: number
  partitionsConcurrently: number
  /** a fetch returns once this many bytes are there, or after fetchMaxWaitMs */
  fetchMinBytes: number
  fetchMaxWaitMs: number
  log: Logger
  metrics: ProcessorMetrics
  /** applies decoded messages; the same `changeTokens` map is passed to every retry of one chunk */
  apply: (messages: OrderMessage[], changeTokens: Map<number, string>) => Promise<BatchOutcome>
}

const BACKOFF_FIRST_MS = 100
const BACKOFF_MAX_MS = 5000
/** a consumer kafkajs will not restart: the first wait before connecting again, and the longest */
const RESTART_FIRST_MS = 1000
const RESTART_MAX_MS = 30_000
/** An order.placed is ~300 bytes on the wire: size fetches for about one chunk per partition. */
const BYTES_PER_MESSAGE = 512

interface Decoded {
  message: KafkaMessage
  order?: OrderMessage
  reason?: string
}

export class OrderConsumer {
  readonly #options: OrderConsumerOptions
  readonly #consumer: Consumer
  readonly #producer: Producer
  readonly #log: Logger
  #running = false
  #joined = false
  #stopping = false
  #restartTimer: NodeJS.Timeout | undefined
  /** restarts since the consumer was last in its group: the backoff doubles with each */
  #restarts = 0

  constructor (options: OrderConsumerOptions) {
    this.#options = options
    this.#log = options.log.child({ component: 'consumer', topic: options.topic, groupId: options.groupId })
    this.#consumer = options.kafka.consumer({
      groupId: options.groupId,
      // A dead instance's partitions move on within ~15 s; a live one heartbeats every 3 s, also
      // while it retries a batch.
      sessionTimeout: 15_000,
      heartbeatInterval: 3_000,
      rebalanceTimeout: 30_000,
      // Busy: the broker answers once fetchMinBytes are there (batches of tens of orders, fewer
      // transactions). Quiet: it answers after fetchMaxWaitMs with whatever arrived.
      maxWaitTimeInMs: options.fetchMaxWaitMs,
      minBytes: options.fetchMinBytes,
      maxBytesPerPartition: Math.max(options.maxBatch * BYTES_PER_MESSAGE, 64 * 1024),
      maxBytes: Math.max(options.maxBatch * BYTES_PER_MESSAGE * options.partitionsConcurrently * 2, 1024 * 1024),
      allowAutoTopicCreation: false
    })
    this.#producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
    const { GROUP_JOIN, CRASH, STOP, DISCONNECT, REBALANCING } = this.#consumer.events
    // kafkajs restarts a crashed consumer itself (disconnect, connect, run again) and emits DISCONNECT
    // on the way: "running" follows the group membership, and only our own stop ends it. A crash kafkajs
    // calls non-retriable it does not restart from — among them "Failed to find group coordinator",
    // which a broker answers for a while after it restarts — so this consumer restarts itself then.
    this.#consumer.on(GROUP_JOIN, (event) => {
      this.#joined = true
      this.#restarts = 0
      this.#running = !this.#stopping
      this.#options.metrics.lag.reset()
      this.#log.info({ assignment: event.payload.memberAssignment }, 'joined the consumer group')
    })
    this.#consumer.on(REBALANCING, () => { this.#joined = false })
    this.#consumer.on(CRASH, (event) => {
      this.#joined = false
      this.#log.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed')
      if (!event.payload.restart) this.#restartLater()
    })
    this.#consumer.on(STOP, () => { this.#joined = false })
    this.#consumer.on(DISCONNECT, () => {
      this.#joined = false
      if (this.#stopping) this.#running = false
    })
  }

  /** Readiness: running and a member of the group. */
  get state (): { running: boolean, joined: boolean } {
    return { running: this.#running, joined: this.#joined }
  }

  /**
   * Connects and subscribes, then runs in the background: joining the group can take a whole session
   * timeout (a killed member's partitions are reassigned only when it expires), and readiness says
   * when it has happened.
   */
  async start (): Promise<void> {
    await this.#producer.connect()
    await this.#consumer.connect()
    // fromBeginning applies only to a group with no committed offsets: a NEW group reads everything.
    await this.#consumer.subscribe({ topic: this.#options.topic, fromBeginning: true })
    this.#running = true
    this.#run()
  }

  #run (): void {
    this.#consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#options.partitionsConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload)
    }).catch((err: unknown) => {
      this.#log.error({ err }, 'consumer could not start')
      this.#restartLater()
    })
  }

  /**
   * After a crash kafkajs gave up on (it has disconnected the consumer): connect and run again after a
   * backoff, doubling up to RESTART_MAX_MS, until it runs or this consumer is stopped. Readiness says
   * not running meanwhile; the subscription is kept.
   */
  #restartLater (): void {
    this.#running = false
    if (this.#stopping) return
    const delay = Math.min(RESTART_FIRST_MS * 2 ** this.#restarts++, RESTART_MAX_MS)
    this.#log.warn({ delayMs: delay, attempt: this.#restarts }, 'restarting the consumer')
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined
      if (this.#stopping) return
      this.#consumer.connect().then(() => {
        if (this.#stopping) return
        this.#running = true
        this.#run()
      }, (err: unknown) => {
        this.#log.warn({ err }, 'consumer could not reconnect')
        this.#restartLater()
      })
    }, delay)
  }

  /** Finishes the chunk in flight (and commits it), leaves the group, disconnects. */
  async stop (): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#restartTimer)
    try {
      await this.#consumer.disconnect()
    } finally {
      this.#running = false
      this.#joined = false
      await this.#producer.disconnect()
    }
  }

  async #eachBatch (payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale } = payload
    const alive = (): boolean => isRunning() && !isStale() && !this.#stopping
    const { maxBatch } = this.#options
    for (let from = 0; from < batch.messages.length; from += maxBatch) {
      if (!alive()) return
      const chunk = batch.messages.slice(from, from + maxBatch)
      const done = await this.#processChunk(batch.topic, batch.partition, chunk, alive, heartbeat)
      // Stopping or lost the partition mid-retry: leave the chunk unresolved; whoever owns the
      // partition next reads it again.
      if (!done) return
      const last = chunk[chunk.length - 1] as KafkaMessage
      resolveOffset(last.offset)
      await commitOffsetsIfNecessary(uncommittedOffsets())
      this.#options.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) },
        Math.max(Number(BigInt(batch.highWatermark) - 1n - BigInt(last.offset)), 0))
      await heartbeat()
    }
  }

  async #processChunk (topic: string, partition: number, chunk: KafkaMessage[], alive: () => boolean,
    heartbeat: () => Promise<void>): Promise<boolean> {
    const started = performance.now()
    const decoded: Decoded[] = chunk.map((message) => {
      const result = decodeMessage(message.value)
      if (!result.ok) return { message, reason: result.reason }
      const reason = unprocessableReason(result.message)
      return reason === null ? { message, order: result.message } : { message, reason }
    })
    const poison = decoded.filter((d) => d.reason !== undefined)
    const orders = decoded.flatMap((d) => d.order === undefined ? [] : [d.order])

    if (poison.length > 0) {
      const sent = await this.#untilDone('dead-letter', alive, heartbeat, () => this.#deadLetter(topic, partition, poison))
      if (!sent.ok) return false
      this.#options.metrics.deadLettered.inc(poison.length)
    }

    let outcome: BatchOutcome | undefined
    if (orders.length > 0) {
      const changeTokens = new Map<number, string>()
      const applied = await this.#untilDone('apply', alive, heartbeat, () => this.#options.apply(orders, changeTokens))
      if (!applied.ok) return false
      outcome = applied.value
      this.#record(outcome, orders.length)
    }

    const ms = Math.round(performance.now() - started)
    this.#options.metrics.batchDuration.observe(ms / 1000)
    const requestIds = chunk.map((m) => headerValue(m, REQUEST_ID_HEADER)).filter((id) => id !== null)
    this.#log.info({
      partition,
      firstOffset: chunk[0]?.offset,
      lastOffset: chunk[chunk.length - 1]?.offset,
      messages: chunk.length,
      confirmed: outcome?.confirmed ?? 0,
      failed: outcome === undefined ? 0 : failedTotal(outcome),
      failedReasons: outcome?.failed,
      compensatedUnits: outcome?.compensatedUnits ?? 0,
      cancelled: outcome?.cancelled ?? 0,
      returnedUnits: outcome?.returnedUnits ?? 0,
      replayed: outcome?.replayed ?? 0,
      held: outcome?.held ?? 0,
      paid: outcome?.paid ?? 0,
      expired: outcome?.expired ?? 0,
      latePayments: outcome?.latePayments ?? 0,
      deadLettered: poison.length,
      ms
    }, 'batch applied')
    this.#log.debug({ partition, firstOffset: chunk[0]?.offset, requestIds }, 'batch request ids')
    return true
  }

  #record (outcome: BatchOutcome, size: number): void {
    const m = this.#options.metrics
    m.batchSize.observe(size)
    m.confirmed.inc(outcome.confirmed)
    for (const [reason, count] of Object.entries(outcome.failed)) m.failed.inc({ reason }, count)
    m.replayed.inc(outcome.replayed)
    m.compensated.inc(outcome.compensatedUnits)
    m.cancelled.inc(outcome.cancelled)
    m.returned.inc(outcome.returnedUnits)
    m.held.inc(outcome.held)
    m.paid.inc(outcome.paid)
    m.expired.inc(outcome.expired)
    m.latePayments.inc(outcome.latePayments)
  }

  async #deadLetter (topic: string, partition: number, poison: Decoded[]): Promise<void> {
    const failedAt = new Date().toISOString()
    await this.#producer.send({
      topic: this.#options.dlqTopic,
      acks: -1,
      messages: poison.map(({ message, reason }) => {
        const letter: DeadLetter = {
          reason: reason ?? 'unknown',
          topic,
          partition,
          offset: message.offset,
          key: message.key === null ? null : message.key.toString(),
          value: message.value === null ? null : message.value.toString(),
          failedAt
        }
        const requestId = headerValue(message, REQUEST_ID_HEADER)
        return { key: message.key, value: JSON.stringify(letter), headers: requestId === null ? {} : { [REQUEST_ID_HEADER]: requestId } }
      })
    })
    for (const { message, reason } of poison) {
      this.#log.warn({ partition, offset: message.offset, key: message.key?.toString() ?? null, reason }, 'message sent to the dead-letter topic')
    }
  }

  /**
   * Runs `work` until it succeeds, backing off 100 ms → 5 s between attempts and heartbeating so the
   * group keeps the partition here. Gives up only when the consumer stops or loses the partition.
   */
  async #untilDone<T> (what: string, alive: () => boolean, heartbeat: () => Promise<void>,
    work: () => Promise<T>): Promise<{ ok: true, value: T } | { ok: false }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { ok: true, value: await work() }
      } catch (error) {
        const transient = isTransientError(error)
        this.#options.metrics.retries.inc({ transient: String(transient) })
        const delay = Math.min(BACKOFF_FIRST_MS * 2 ** attempt, BACKOFF_MAX_MS)
        // Not transient (a bug, a schema problem): still never skipped, since skipping would lose an
        // accepted order (I2); it is logged as an error so someone looks at it.
        this.#log[transient ? 'warn' : 'error']({ err: error, attempt: attempt + 1, retryInMs: delay }, `${what} failed, retrying`)
        const until = Date.now() + delay
        while (Date.now() < until) {
          if (!alive()) return { ok: false }
          await heartbeat()
          await sleep(Math.min(250, until - Date.now()))
        }
        if (!alive()) return { ok: false }
      }
    }
  }
}

function headerValue (message: KafkaMessage, name: string): string | null {
  const value = message.headers?.[name]
  if (value === undefined) return null
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? null : first.toString()
}
