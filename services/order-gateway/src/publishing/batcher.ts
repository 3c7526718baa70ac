// A micro-batcher: concurrent callers share one produce call, so throughput does not depend on one
// Kafka round trip per request. A batch leaves when it is full (maxBatch) or when its first item has
// waited lingerMs; while `maxInFlight` batches are on their way, new items wait and leave together
// as soon as one returns — the slower Kafka answers, the bigger the batches get.
// Pure logic: the transport is the `send` function, so this module is tested without Kafka.

export class PublishTimeoutError extends Error {
  constructor (timeoutMs: number) {
    super(`not acknowledged within ${timeoutMs} ms`)
    this.name = 'PublishTimeoutError'
  }
}

export class BatcherClosedError extends Error {
  constructor () {
    super('the publisher is closed')
    this.name = 'BatcherClosedError'
  }
}

export interface BatcherOptions<T> {
  lingerMs: number
  maxBatch: number
  /** batches on their way at once (1: the next batch waits for the previous ack) */
  maxInFlight?: number
  /** sends one batch; its result settles every caller of the batch */
  send: (items: T[]) => Promise<void>
  /** observes each batch's size (metrics) */
  onBatch?: (size: number) => void
}

interface Entry<T> {
  item: T
  settled: boolean
  sent: boolean
  timer: NodeJS.Timeout | undefined
  resolve: () => void
  reject: (error: unknown) => void
}

export class MicroBatcher<T> {
  readonly #options: Required<BatcherOptions<T>>
  #queue: Array<Entry<T>> = []
  #timer: NodeJS.Timeout | undefined
  #inFlight = 0
  readonly #batches = new Set<Promise<void>>()
  #closed = false

  constructor (options: BatcherOptions<T>) {
    this.#options = { ...options, maxInFlight: options.maxInFlight ?? 1, onBatch: options.onBatch ?? (() => {}) }
  }

  /** items waiting for a batch */
  get queued (): number { return this.#queue.length }

  /**
   * Resolves when the batch holding `item` was sent successfully; rejects with the batch's error, or
   * with PublishTimeoutError after `timeoutMs`. An item that times out before its batch left is
   * withdrawn and never sent; one already sent may still arrive (its caller must treat it as unknown).
   */
  submit (item: T, timeoutMs?: number): Promise<void> {
    if (this.#closed) return Promise.reject(new BatcherClosedError())
    return new Promise<void>((resolve, reject) => {
      const entry: Entry<T> = { item, settled: false, sent: false, timer: undefined, resolve, reject }
      if (timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          if (!entry.sent) this.#queue = this.#queue.filter((e) => e !== entry)
          this.#settle(entry, new PublishTimeoutError(timeoutMs))
        }, timeoutMs)
      }
      this.#queue.push(entry)
      if (this.#queue.length >= this.#options.maxBatch) this.#dispatch()
      else if (this.#timer === undefined) this.#timer = setTimeout(() => this.#dispatch(), this.#options.lingerMs)
    })
  }

  /** Sends whatever is queued now and waits until every batch on its way has settled. */
  async flush (): Promise<void> {
    while (this.#queue.length > 0 || this.#batches.size > 0) {
      this.#dispatch()
      await Promise.allSettled([...this.#batches])
    }
  }

  /** Refuses new items, then flushes. */
  async close (): Promise<void> {
    this.#closed = true
    await this.flush()
  }

  #dispatch (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    while (this.#inFlight < this.#options.maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.maxBatch)
      for (const entry of batch) entry.sent = true
      this.#inFlight++
      this.#options.onBatch(batch.length)
      const sending = this.#sendBatch(batch)
      this.#batches.add(sending)
      void sending.finally(() => {
        this.#batches.delete(sending)
        this.#inFlight--
        // Items that queued up meanwhile have waited at least one round trip: they leave now.
        if (this.#queue.length > 0) this.#dispatch()
      })
    }
  }

  async #sendBatch (batch: Array<Entry<T>>): Promise<void> {
    let error: unknown
    try {
      await this.#options.send(batch.map((e) => e.item))
    } catch (err) {
      error = err ?? new Error('send failed')
    }
    for (const entry of batch) this.#settle(entry, error)
  }

  #settle (entry: Entry<T>, error: unknown): void {
    if (entry.settled) return
    entry.settled = true
    clearTimeout(entry.timer)
    if (error === undefined) entry.resolve()
    else entry.reject(error)
  }
}
