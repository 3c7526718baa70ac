import type { Cluster } from 'ioredis'
import { kafkaLagKey, LIVE_WATCHED_KEY, productKeys } from '../contracts/keys.ts'
import { loadLuaScript, runLuaScript } from '../clients/lua.ts'
import { ANSWER_TIME_BUCKETS } from './answer-times.ts'

// The live sale view's records in Redis (docs/ARCHITECTURE.md §11). Gateways add their counts of each
// second to one hash per product and second; the catalog reads the second that just ended; the
// processors put the consumer lag in one key. This module is the only one that spells the fields.

const ADD_SECOND = loadLuaScript(new URL('./lua/add-second.lua', import.meta.url), 1)
/** how long a second's hash lives: a reader needs only the last few */
export const LIVE_SECOND_TTL_SECONDS = 120
/** the lag a processor wrote expires when no processor is left to refresh it */
export const KAFKA_LAG_TTL_MS = 5000
/** "a live view is open" lasts this long after the catalog's last second of a stream */
export const LIVE_WATCHED_TTL_MS = 5000

/** One product's orders in one second: answers 202, answers refused, and every answer's time by bucket. */
export interface SecondCounts {
  accepted: number
  refused: number
  answerTimes: ArrayLike<number>
}

const ANSWER_TIME_FIELD = 't'

/** The hash fields a second's counts add: only the counts that are not zero. */
export function secondFields (counts: SecondCounts): Array<string | number> {
  const fields: Array<string | number> = []
  if (counts.accepted > 0) fields.push('accepted', counts.accepted)
  if (counts.refused > 0) fields.push('refused', counts.refused)
  for (let i = 0; i < counts.answerTimes.length; i++) {
    const n = counts.answerTimes[i] ?? 0
    if (n > 0) fields.push(`${ANSWER_TIME_FIELD}${i}`, n)
  }
  return fields
}

/** A second's hash as counts (an absent hash: all zero); unknown fields are ignored. */
export function countsOfSecond (hash: Record<string, string>): SecondCounts {
  const answerTimes = new Array<number>(ANSWER_TIME_BUCKETS).fill(0)
  for (const [field, value] of Object.entries(hash)) {
    if (!field.startsWith(ANSWER_TIME_FIELD)) continue
    const bucket = Number(field.slice(ANSWER_TIME_FIELD.length))
    if (Number.isInteger(bucket) && bucket >= 0 && bucket < ANSWER_TIME_BUCKETS) answerTimes[bucket] = Number(value)
  }
  return { accepted: Number(hash.accepted ?? 0), refused: Number(hash.refused ?? 0), answerTimes }
}

const secondKey = (productId: number, second: number): string => `${productKeys(productId).livePrefix}${second}`

export interface LiveReading {
  counts: SecondCounts
  /** Redis available stock now; null: the product is not on sale */
  stock: number | null
}

export class LiveStore {
  readonly #redis: Cluster

  constructor (redis: Cluster) {
    this.#redis = redis
  }

  /** Adds one gateway's counts of `second` (epoch seconds) to the product's hash: one call, on its shard. */
  async addSecond (productId: number, second: number, counts: SecondCounts): Promise<void> {
    const fields = secondFields(counts)
    if (fields.length === 0) return
    await runLuaScript(this.#redis, ADD_SECOND, [secondKey(productId, second), LIVE_SECOND_TTL_SECONDS, ...fields])
  }

  /** Each product's counts of `second` and its stock now: one pipelined round trip per product's shard. */
  async read (productIds: readonly number[], second: number): Promise<Map<number, LiveReading>> {
    const readings = await Promise.all(productIds.map(async (productId) => {
      const results = await this.#redis.pipeline()
        .hgetall(secondKey(productId, second))
        .get(productKeys(productId).stock)
        .exec()
      const [hashResult, stockResult] = results ?? []
      if (hashResult?.[0] != null) throw hashResult[0]
      if (stockResult?.[0] != null) throw stockResult[0]
      const stock = stockResult?.[1]
      return [productId, {
        counts: countsOfSecond((hashResult?.[1] ?? {}) as Record<string, string>),
        stock: typeof stock === 'string' ? Number(stock) : null
      }] as const
    }))
    return new Map(readings)
  }

  async setKafkaLag (topic: string, messages: number): Promise<void> {
    await this.#redis.set(kafkaLagKey(topic), String(messages), 'PX', KAFKA_LAG_TTL_MS)
  }

  /** A topic's consumer lag as a processor last measured it; null when none did lately. */
  async kafkaLag (topic: string): Promise<number | null> {
    const value = await this.#redis.get(kafkaLagKey(topic))
    return value === null ? null : Number(value)
  }

  /** Says a live view is open, so the processors keep measuring the lag (they do not while none is). */
  async markWatched (): Promise<void> {
    await this.#redis.set(LIVE_WATCHED_KEY, '1', 'PX', LIVE_WATCHED_TTL_MS)
  }

  /** Whether a live view asked for the lag lately (the processors measure it only then). */
  async watched (): Promise<boolean> {
    return await this.#redis.exists(LIVE_WATCHED_KEY) === 1
  }
}
