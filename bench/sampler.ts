import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { Cluster } from 'ioredis'
import { productKeys } from '@flash/common/contracts'

// What the bench watches while the sale runs, every SAMPLE_MS: units left in Redis, and the resident
// memory of each service process. Reads /proc and one Redis GET per tick: light on purpose, the bench
// shares the machine's two cores with everything it measures.

export const SERVICES = ['catalog-service', 'order-gateway', 'order-processor'] as const
export type Service = typeof SERVICES[number]
const SERVICE_PORTS: Record<Service, number> = { 'catalog-service': 3001, 'order-gateway': 3002, 'order-processor': 3003 }

export interface Sample {
  /** ms epoch */
  at: number
  /** units left in Redis (null: unreadable or not on sale) */
  stock: number | null
  /** VmRSS in kB per service */
  rssKb: Partial<Record<Service, number>>
}

export interface MemoryPeak { pid: number, peakRssKb: number, vmHwmKb: number | null }

/** The service's pid: `.local/run/<service>.pid` (make local), else the process listening on its port. */
export function servicePid (runDir: string, service: Service): number | null {
  try {
    const pid = Number(readFileSync(join(runDir, `${service}.pid`), 'utf8').trim())
    if (pid > 0 && statusField(pid, 'VmRSS') !== null) return pid
  } catch { /* not started by make local */ }
  return pidListeningOn(SERVICE_PORTS[service])
}

function statusField (pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : null
  } catch { return null }
}

/** Finds a listening TCP socket's inode in /proc/net/tcp{,6}, then the process holding it. */
export function pidListeningOn (port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = readFileSync(table, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9] !== undefined) inodes.add(`socket:[${cols[9]}]`)
    }
  }
  if (inodes.size === 0) return null
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fds: string[]
    try { fds = readdirSync(`/proc/${entry}/fd`) } catch { continue }
    for (const fd of fds) {
      try { if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry) } catch { /* gone */ }
    }
  }
  return null
}

export class Sampler {
  readonly samples: Sample[] = []
  readonly #pids: Partial<Record<Service, number>>
  readonly #redis: Cluster
  readonly #stockKey: string
  #timer: NodeJS.Timeout | undefined
  #reading = false

  constructor (options: { redis: Cluster, productId: number, runDir: string }) {
    this.#redis = options.redis
    this.#stockKey = productKeys(options.productId).stock
    this.#pids = {}
    for (const service of SERVICES) {
      const pid = servicePid(options.runDir, service)
      if (pid !== null) this.#pids[service] = pid
    }
  }

  get pids (): Partial<Record<Service, number>> { return { ...this.#pids } }

  start (everyMs: number): void {
    void this.#sample()
    this.#timer = setInterval(() => { void this.#sample() }, everyMs)
  }

  async stop (): Promise<void> {
    clearInterval(this.#timer)
    await this.#sample()
  }

  async #sample (): Promise<void> {
    if (this.#reading) return
    this.#reading = true
    const at = Date.now()
    const rssKb: Partial<Record<Service, number>> = {}
    for (const [service, pid] of Object.entries(this.#pids) as Array<[Service, number]>) {
      const rss = statusField(pid, 'VmRSS')
      if (rss !== null) rssKb[service] = rss
    }
    let stock: number | null = null
    try {
      const raw = await this.#redis.get(this.#stockKey)
      stock = raw === null ? null : Number(raw)
    } catch { /* a missed sample is a gap in the chart, not a failed bench */ }
    this.samples.push({ at, stock, rssKb })
    this.#reading = false
  }

  memoryPeaks (): Partial<Record<Service, MemoryPeak>> {
    const peaks: Partial<Record<Service, MemoryPeak>> = {}
    for (const [service, pid] of Object.entries(this.#pids) as Array<[Service, number]>) {
      const peakRssKb = Math.max(0, ...this.samples.map((s) => s.rssKb[service] ?? 0))
      peaks[service] = { pid, peakRssKb, vmHwmKb: statusField(pid, 'VmHWM') }
    }
    return peaks
  }
}
