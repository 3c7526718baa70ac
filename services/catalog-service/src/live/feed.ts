import type { ServerResponse } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import type { LiveStore } from '@flash/common'
import type { LivePoint } from '../schemas.ts'
import { livePoint, PointRing } from './points.ts'
import type { OrderUnitsReader } from './units.ts'

// The live sale view's stream (docs/ARCHITECTURE.md §11). One reader per catalog process, once a
// second while any page watches: the union of the watched products' second that just ended, their
// stock (Redis), their held/paid/confirmed units (one MySQL query) and the Kafka lag. Each product's
// point is serialized once and written to every open stream that watches it, so a second costs the
// same reads whatever the number of viewers; streams are capped, and so is what one may buffer.

/** most streams one catalog process holds open; the next page is told to retry (503) */
export const MAX_LIVE_STREAMS = 20
/** seconds of history a page gets when it opens (the charts' width) */
export const LIVE_HISTORY_SECONDS = 120
/** a stream ends after this long and the page reconnects: the admin check runs again */
const STREAM_MAX_MS = 10 * 60_000
/** after the second's end: the gateways add their counts 20 ms past it */
const READ_DELAY_MS = 300
/** a viewer that has not taken this much yet is too slow: its stream is ended */
const MAX_BUFFERED_BYTES = 1024 * 1024

interface LiveStream {
  productIds: readonly number[]
  res: ServerResponse
  endsAt: number
}

export interface LiveFeedOptions {
  store: LiveStore
  units: OrderUnitsReader
  /** the orders topic, whose consumer lag the processors report */
  topic: string
  log: FastifyBaseLogger
  now?: () => number
}

const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

export class LiveFeed {
  readonly #o: LiveFeedOptions
  readonly #now: () => number
  readonly #streams = new Set<LiveStream>()
  readonly #history = new Map<number, PointRing>()
  #timer: NodeJS.Timeout | undefined
  #reading = false
  #failing = false

  constructor (options: LiveFeedOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  get streams (): number {
    return this.#streams.size
  }

  /** Starts a stream on `res` (headers already written by the caller); false when the cap is reached. */
  open (productIds: readonly number[], res: ServerResponse): boolean {
    if (this.#streams.size >= MAX_LIVE_STREAMS) return false
    const stream: LiveStream = { productIds, res, endsAt: this.#now() + STREAM_MAX_MS }
    this.#streams.add(stream)
    res.on('close', () => this.#drop(stream))
    const points = productIds.flatMap((id) => this.#history.get(id)?.toArray() ?? [])
    res.write(`retry: 2000\n${event('history', { points })}`)
    this.#schedule()
    return true
  }

  /** Ends every stream (the server is closing: an open stream would hold it up). */
  close (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    for (const stream of this.#streams) stream.res.end()
    this.#streams.clear()
  }

  /** One second: read the union of the watched products once, write each point to its watchers. */
  async tick (): Promise<void> {
    if (this.#reading || this.#streams.size === 0) return
    this.#reading = true
    try {
      const watched = [...new Set([...this.#streams].flatMap((s) => s.productIds))]
      const second = Math.floor(this.#now() / 1000) - 1
      let events: Map<number, string>
      try {
        const [readings, units, kafkaLag] = await Promise.all([
          this.#o.store.read(watched, second),
          this.#o.units.read(watched),
          this.#o.store.kafkaLag(this.#o.topic),
          this.#o.store.markWatched()
        ])
        events = new Map(watched.map((id) => {
          const point = livePoint(id, second, readings.get(id), units.get(id), kafkaLag)
          this.#remember(point)
          return [id, event('point', point)]
        }))
        this.#failing = false
      } catch (err) {
        // Redis or MySQL did not answer: the pages keep their charts and are told the second is missing.
        if (!this.#failing) this.#o.log.warn({ err }, 'live view not read')
        this.#failing = true
        events = new Map()
      }
      this.#forgetUnwatched(watched)
      const now = this.#now()
      for (const stream of this.#streams) {
        if (now >= stream.endsAt || stream.res.writableLength > MAX_BUFFERED_BYTES) { stream.res.end(); this.#drop(stream); continue }
        const text = stream.productIds.map((id) => events.get(id) ?? '').join('')
        stream.res.write(text === '' ? `event: gap\ndata: {"at":${second * 1000}}\n\n` : text)
      }
    } finally {
      this.#reading = false
    }
  }

  #remember (point: LivePoint): void {
    let ring = this.#history.get(point.productId)
    if (ring === undefined) {
      ring = new PointRing(LIVE_HISTORY_SECONDS)
      this.#history.set(point.productId, ring)
    }
    ring.push(point)
  }

  #forgetUnwatched (watched: readonly number[]): void {
    const keep = new Set(watched)
    for (const id of this.#history.keys()) if (!keep.has(id)) this.#history.delete(id)
  }

  #drop (stream: LiveStream): void {
    this.#streams.delete(stream)
  }

  #schedule (): void {
    if (this.#timer !== undefined) return
    // The next READ_DELAY_MS past a second's end, at most a second away.
    const wait = (READ_DELAY_MS - (this.#now() % 1000) + 1000) % 1000 || 1000
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.tick().finally(() => { if (this.#streams.size > 0) this.#schedule() })
    }, wait)
    this.#timer.unref()
  }
}
