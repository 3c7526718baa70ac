// Orders per client address per window, counted in this process's memory: no Redis round trip on the
// hot path. With N gateways behind nginx a client may place N × max orders per window; nginx's
// limit_req is the edge's per-address limit across all of them. One fixed window for every client: at
// its end all counts start again, so the memory holds the clients of one window and no more, and a
// request costs one Map lookup (the plugin this replaced kept an LRU and ran an async hook per order).

export interface OverBudget {
  /** whole seconds until the window ends (≥ 1): Retry-After and X-RateLimit-Reset */
  retryAfterSeconds: number
}

export class ClientBudgets {
  readonly max: number
  readonly #windowMs: number
  readonly #now: () => number
  readonly #used = new Map<string, number>()
  #windowEndsAt = -Infinity

  constructor (options: { max: number, windowMs: number, now?: () => number }) {
    this.max = options.max
    this.#windowMs = options.windowMs
    this.#now = options.now ?? Date.now
  }

  /** Counts one order of `client`: undefined while it is within its budget, else when to come back. */
  take (client: string): OverBudget | undefined {
    const now = this.#now()
    if (now >= this.#windowEndsAt) {
      this.#used.clear()
      this.#windowEndsAt = now + this.#windowMs
    }
    const used = (this.#used.get(client) ?? 0) + 1
    this.#used.set(client, used)
    if (used <= this.max) return undefined
    return { retryAfterSeconds: Math.max(1, Math.ceil((this.#windowEndsAt - now) / 1000)) }
  }
}
