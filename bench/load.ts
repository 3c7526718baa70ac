import { performance } from 'node:perf_hooks'
import autocannon, { type RequestContext, type RequestSpec, type Result } from 'autocannon'

// One flash-sale burst driven by autocannon: REQUESTS `POST /orders`, each a different buyer (own
// signed-in buyer (a minted access token, bench/buyers.ts), Idempotency-Key and x-forwarded-for, so
// the gateway verifies a token per order and per-client rate limiting sees a crowd, not one
// client), over CONNECTIONS keep-alive connections. Every response is recorded individually — status,
// latency, send and receive time — because the invariant checks need more than autocannon's totals.
// Pipelining stays at 1: the per-connection context then maps each response to its request.

export interface LoadOptions {
  /** base URL, e.g. http://127.0.0.1:3002 */
  baseUrl: string
  /** path of the orders route at that base (/orders or /api/orders), or of what a GET asks for */
  ordersPath: string
  /** POST (an order, the default) or GET (no body: a health or read route) */
  method?: 'POST' | 'GET'
  productId: number
  requests: number
  connections: number
  /** makes Idempotency-Keys unique to this run */
  runTag: string
  /** `Authorization` header of request i (signed-in buyers); none: guest orders */
  authorizations?: string[]
  timeoutSeconds: number
  /** called with the number of answers so far, after each answer (a scenario acts mid-run) */
  onAnswered?: (answered: number) => void
  /** called with the request number and order id of each 202 as it arrives */
  onAccepted?: (i: number, orderId: string) => void
}

/** Per-request records, indexed by request number (0..requests-1), times in ms since `t0`. */
export interface LoadRecord {
  /** performance.now() when the first request was built: every *At below is relative to it */
  t0: number
  /** wall-clock ms epoch at t0 (to line up with samplers) */
  epochAt0: number
  sentAt: Float64Array
  receivedAt: Float64Array
  latencyMs: Float64Array
  /** HTTP status, 0 = no response (error or timeout) */
  status: Uint16Array
  /** error `code` of non-2xx answers, by request number (sparse) */
  codes: Map<number, string>
  /** orderId of every 202, by request number */
  accepted: Map<number, string>
  /** `available` reported by 409 INSUFFICIENT_STOCK answers that carried it */
  refusedWithUnitsLeft: number[]
  /** 2xx answers whose body was not {orderId, status: 'pending'} */
  malformed: number
  summary: Result
  sent: number
}

interface BenchContext extends RequestContext { i?: number }

/**
 * A buyer's public address from the request number: 198.18.0.0/15, the range RFC 2544 sets aside for
 * benchmarks (131,072 addresses), then 100.64.0.0/10. Not a private range: the gateway trusts those
 * as proxies, and a buyer must look like a buyer.
 */
export const buyerAddress = (i: number): string => i < 131_072
  ? `198.${18 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`
  : `100.${64 + (((i - 131_072) >>> 16) & 63)}.${((i - 131_072) >>> 8) & 255}.${(i - 131_072) & 255}`

export async function runLoad (options: LoadOptions): Promise<LoadRecord> {
  const n = options.requests
  const record: LoadRecord = {
    t0: 0,
    epochAt0: 0,
    sentAt: new Float64Array(n).fill(-1),
    receivedAt: new Float64Array(n).fill(-1),
    latencyMs: new Float64Array(n).fill(-1),
    status: new Uint16Array(n),
    codes: new Map(),
    accepted: new Map(),
    refusedWithUnitsLeft: [],
    malformed: 0,
    summary: undefined as unknown as Result,
    sent: 0
  }
  let next = 0
  let lastAnswered = -1
  let answered = 0
  const body = `{"productId":${options.productId},"quantity":1}`
  const authorizations = options.authorizations
  const get = options.method === 'GET'

  const setupRequest = (request: RequestSpec, context: RequestContext): RequestSpec => {
    const i = next++
    // autocannon builds exactly `amount` requests; were it ever to build more, they go unrecorded
    // (returning nothing would stop the run).
    if (i >= n) { (context as BenchContext).i = undefined; return request }
    if (i === 0) {
      record.t0 = performance.now()
      record.epochAt0 = Date.now()
    }
    ;(context as BenchContext).i = i
    record.sentAt[i] = performance.now() - record.t0
    record.sent = i + 1
    if (!get) request.body = body
    request.headers = {
      ...(authorizations === undefined ? {} : { authorization: authorizations[i] ?? '' }),
      ...(get ? {} : { 'content-type': 'application/json' }),
      'idempotency-key': `bench-${options.runTag}-${i}`,
      'x-forwarded-for': buyerAddress(i)
    }
    return request
  }

  const onResponse = (status: number, body: string, context: RequestContext): void => {
    const i = (context as BenchContext).i
    if (i === undefined) return
    lastAnswered = i
    answered++
    record.receivedAt[i] = performance.now() - record.t0
    record.status[i] = status
    if (status === 202) {
      try {
        const parsed = JSON.parse(body) as { orderId?: unknown, status?: unknown }
        if (typeof parsed.orderId === 'string' && parsed.status === 'pending') {
          record.accepted.set(i, parsed.orderId)
          options.onAccepted?.(i, parsed.orderId)
        } else record.malformed++
      } catch { record.malformed++ }
    } else if (status >= 400) {
      try {
        const parsed = JSON.parse(body) as { code?: unknown, details?: { available?: unknown } }
        if (typeof parsed.code === 'string') record.codes.set(i, parsed.code)
        if (parsed.code === 'INSUFFICIENT_STOCK' && typeof parsed.details?.available === 'number' && parsed.details.available > 0) {
          record.refusedWithUnitsLeft.push(parsed.details.available)
        }
      } catch { record.codes.set(i, 'UNPARSEABLE') }
    }
    options.onAnswered?.(answered)
  }

  const requests: RequestSpec[] = [{ method: get ? 'GET' : 'POST', path: options.ordersPath, setupRequest, onResponse }]
  const { promise, resolve, reject } = Promise.withResolvers<Result>()
  const instance = autocannon({
    url: options.baseUrl,
    connections: options.connections,
    pipelining: 1,
    amount: n,
    timeout: options.timeoutSeconds,
    requests
  }, (error, result) => { if (error) reject(error); else resolve(result) })
  // autocannon emits 'response' right after onResponse for the same request: it carries the latency.
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    if (lastAnswered >= 0) record.latencyMs[lastAnswered] = responseTime
  })
  record.summary = await promise
  return record
}
