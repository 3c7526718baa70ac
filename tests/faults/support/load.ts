import { randomUUID } from 'node:crypto'
import { Pool } from 'undici'
import { sleep } from '@flash/common'
import { GATEWAY } from './stack.ts'
import { buyerAuthorization } from '../../../bench/buyers.ts'

// The flash-sale load driver: a bounded number of buyers, each with its own userId and Idempotency-Key,
// at a bounded rate and concurrency, against one or more gateways over real HTTP. A buyer answered 503
// or 429 (or whose connection failed) retries with the SAME key, with backoff, until a deadline — the
// behaviour docs/ARCHITECTURE.md §4 promises a client. Every attempt is recorded.

export interface Attempt { status: number | 'network', code?: string | undefined, orderId?: string | undefined, target: string, ms: number, error?: string | undefined }

export interface Purchase {
  index: number
  key: string
  userId: string
  productId: number
  quantity: number
  attempts: Attempt[]
  /** accepted: 202; refused: a definitive 4xx; gave-up: retries exhausted */
  outcome: 'accepted' | 'refused' | 'gave-up'
  orderId?: string
  code?: string
  /** `available` of an INSUFFICIENT_STOCK answer (I5 evidence) */
  available?: number
}

export interface SaleOptions {
  /** tag in userIds, so a scenario's buyers are recognisable in MySQL */
  tag: string
  products: number[]
  buyers: number
  concurrency?: number
  ratePerSecond?: number
  quantity?: (index: number) => number
  /** gateways to spread buyers over; a buyer whose gateway refuses connections tries the next */
  targets?: string[]
  retryDeadlineMs?: number
  maxAttempts?: number
}

export interface SaleProgress { started: number, finished: number, accepted: number }

export interface Sale { progress: SaleProgress, done: Promise<SaleResult> }

export interface SaleResult {
  purchases: Purchase[]
  /** orderId → purchase, for every 202 */
  accepted: Map<string, Purchase>
  statusCounts: Record<string, number>
  ms: number
}

const RETRYABLE = new Set([429, 502, 503, 504])

export function startSale (options: SaleOptions): Sale {
  const targets = options.targets ?? [GATEWAY]
  const pools = new Map(targets.map((t) => [t, new Pool(t, { connections: 64, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 })]))
  const concurrency = options.concurrency ?? 40
  const rate = options.ratePerSecond ?? 300
  const retryDeadlineMs = options.retryDeadlineMs ?? 45_000
  const maxAttempts = options.maxAttempts ?? 200
  const progress: SaleProgress = { started: 0, finished: 0, accepted: 0 }
  const purchases: Purchase[] = Array.from({ length: options.buyers }, (_, index) => ({
    index,
    key: `fault-${options.tag}-${randomUUID()}`,
    userId: `fault-${options.tag}-${index}`,
    productId: options.products[index % options.products.length] as number,
    quantity: options.quantity?.(index) ?? 1,
    attempts: [],
    outcome: 'gave-up'
  }))

  async function attempt (purchase: Purchase, target: string): Promise<Attempt> {
    const pool = pools.get(target) as Pool
    const started = Date.now()
    try {
      const res = await pool.request({
        method: 'POST',
        path: '/orders',
        // The buyer is a signed-in session (a token minted with the stack's AUTH_JWT_SECRET),
        // no longer a userId in the body; its `sub` is the userId the invariants look for in MySQL.
        headers: { 'content-type': 'application/json', 'idempotency-key': purchase.key, authorization: buyerAuthorization(purchase.userId) },
        body: JSON.stringify({ productId: purchase.productId, quantity: purchase.quantity })
      })
      const text = await res.body.text()
      let body: { code?: string, orderId?: string, available?: number } = {}
      try { body = JSON.parse(text) } catch { /* a non-JSON answer is recorded by its status */ }
      if (res.statusCode === 409 && body.code === 'INSUFFICIENT_STOCK' && typeof body.available === 'number') purchase.available = body.available
      return { status: res.statusCode, code: body.code, orderId: body.orderId, target, ms: Date.now() - started }
    } catch (error) {
      return { status: 'network', error: (error as Error).message, target, ms: Date.now() - started }
    }
  }

  async function buy (purchase: Purchase): Promise<void> {
    const deadline = Date.now() + retryDeadlineMs
    let targetIndex = purchase.index % targets.length
    for (let n = 0; n < maxAttempts; n++) {
      const result = await attempt(purchase, targets[targetIndex] as string)
      purchase.attempts.push(result)
      if (result.status === 202 && result.orderId !== undefined) {
        purchase.outcome = 'accepted'
        purchase.orderId = result.orderId
        progress.accepted++
        return
      }
      if (typeof result.status === 'number' && !RETRYABLE.has(result.status) && result.status < 500) {
        purchase.outcome = 'refused'
        if (result.code !== undefined) purchase.code = result.code
        return
      }
      if (Date.now() > deadline) return
      // A refused connection is a gateway that is gone: the next try goes to another one.
      if (result.status === 'network') targetIndex = (targetIndex + 1) % targets.length
      await sleep(Math.min(250 * 2 ** Math.min(n, 2), 1000))
    }
  }

  const done = (async (): Promise<SaleResult> => {
    const begun = Date.now()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < purchases.length) {
        const purchase = purchases[next++] as Purchase
        // pacing: buyer i starts no earlier than i / rate seconds into the sale
        const due = begun + (purchase.index * 1000) / rate
        if (due > Date.now()) await sleep(due - Date.now())
        progress.started++
        await buy(purchase)
        progress.finished++
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    await Promise.all([...pools.values()].map((p) => p.close()))
    const accepted = new Map<string, Purchase>()
    const statusCounts: Record<string, number> = {}
    for (const p of purchases) {
      if (p.orderId !== undefined) accepted.set(p.orderId, p)
      for (const a of p.attempts) {
        const label = `${a.status}${a.code ? ` ${a.code}` : ''}`
        statusCounts[label] = (statusCounts[label] ?? 0) + 1
      }
    }
    return { purchases, accepted, statusCounts, ms: Date.now() - begun }
  })()
  return { progress, done }
}

/** Resolves once `count` buyers have started (the moment a scenario injects its fault). */
export async function whenStarted (sale: Sale, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (sale.progress.started < count) {
    if (Date.now() > deadline) throw new Error(`only ${sale.progress.started} buyers started, waited for ${count}`)
    await sleep(20)
  }
}
