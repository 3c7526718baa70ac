import type { Admin, Kafka } from 'kafkajs'
import type { Logger } from 'pino'
import type { LiveStore } from '@flash/common'

// The orders topic's consumer lag for the live sale view (docs/ARCHITECTURE.md §11): every second
// while a live view is open (`live:watched`), each partition's end offset minus the group's committed
// offset, summed, into one Redis key; with no view open, one EXISTS a second and no Kafka request. Computed
// from offsets, not from the batches this instance happens to hold, so it is right with several
// processors, while one is stuck retrying, and when none runs at all (then the key expires: no number
// is better than an old one).

export interface PartitionOffset { partition: number, offset: string }

/**
 * Messages not yet applied: per partition the end offset minus the committed one (a partition the
 * group never committed counts from its first offset still on the broker).
 */
export function consumerLag (ends: ReadonlyArray<PartitionOffset & { low: string }>, committed: readonly PartitionOffset[]): number {
  const done = new Map(committed.map((c) => [c.partition, BigInt(c.offset)]))
  let lag = 0n
  for (const end of ends) {
    const high = BigInt(end.offset)
    const from = done.get(end.partition) ?? -1n
    const applied = from < 0n ? BigInt(end.low) : from
    if (high > applied) lag += high - applied
  }
  return Number(lag)
}

export interface KafkaLagOptions {
  kafka: Kafka
  store: LiveStore
  topic: string
  groupId: string
  log: Logger
  intervalMs?: number
}

export class KafkaLagReporter {
  readonly #o: KafkaLagOptions
  readonly #admin: Admin
  #connected = false
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> = Promise.resolve()
  #failing = false

  constructor (options: KafkaLagOptions) {
    this.#o = options
    this.#admin = options.kafka.admin()
  }

  start (): void {
    let busy = false
    this.#timer = setInterval(() => {
      if (busy) return // a slow broker: one measurement at a time, never a queue of them
      busy = true
      this.#running = this.report().finally(() => { busy = false })
    }, this.#o.intervalMs ?? 1000)
    this.#timer.unref()
  }

  /**
   * Stops measuring. A measurement still in flight is given `graceMs`, not its whole course: a broker
   * that does not answer keeps a kafkajs request through its timeout and retries (over a minute),
   * and a shutdown must not wait for a number nobody will read. Disconnecting ends that request.
   */
  async close (graceMs = 1000): Promise<void> {
    clearInterval(this.#timer)
    let grace: NodeJS.Timeout | undefined
    await Promise.race([this.#running, new Promise((resolve) => { grace = setTimeout(resolve, graceMs) })])
    clearTimeout(grace)
    if (this.#connected) await this.#admin.disconnect().catch(() => {})
    this.#connected = false
  }

  /** Measures the lag once and writes it, if a live view is open; a failure is logged once until it works again. */
  async report (): Promise<void> {
    try {
      if (!await this.#o.store.watched()) return
      if (!this.#connected) {
        await this.#admin.connect()
        this.#connected = true
      }
      const { topic, groupId } = this.#o
      const [ends, groups] = await Promise.all([
        this.#admin.fetchTopicOffsets(topic),
        this.#admin.fetchOffsets({ groupId, topics: [topic] })
      ])
      const committed = groups.find((g) => g.topic === topic)?.partitions ?? []
      await this.#o.store.setKafkaLag(topic, consumerLag(ends, committed))
      this.#failing = false
    } catch (err) {
      if (!this.#failing) this.#o.log.warn({ err }, 'consumer lag not measured')
      this.#failing = true
    }
  }
}
