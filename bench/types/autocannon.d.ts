// The part of autocannon's programmatic API the bench uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface RequestContext { [key: string]: unknown }
  export interface RequestSpec {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
    setupRequest?: (request: RequestSpec, context: RequestContext) => RequestSpec | undefined
    onResponse?: (status: number, body: string, context: RequestContext, headers: Record<string, string>) => void
  }

  export interface Options {
    url: string
    connections?: number
    pipelining?: number
    amount?: number
    duration?: number
    /** requests per second from each connection (no limit by default) */
    connectionRate?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: RequestSpec[]
    initialContext?: RequestContext
  }

  export interface Histogram {
    average: number, mean: number, stddev: number, min: number, max: number, total?: number
    p0_001: number, p0_01: number, p0_1: number, p1: number, p2_5: number, p10: number, p25: number,
    p50: number, p75: number, p90: number, p97_5: number, p99: number, p99_9: number, p99_99: number, p99_999: number
  }

  export interface Result {
    url: string
    duration: number
    start: Date
    finish: Date
    connections: number
    latency: Histogram
    requests: Histogram & { sent: number }
    throughput: Histogram
    errors: number
    timeouts: number
    mismatches: number
    non2xx: number
    resets: number
    '1xx': number, '2xx': number, '3xx': number, '4xx': number, '5xx': number
    statusCodeStats: Record<string, { count: number }>
  }

  export interface Instance extends EventEmitter {
    stop: () => void
  }

  function autocannon (options: Options, callback: (error: Error | null, result: Result) => void): Instance
  export default autocannon
}
