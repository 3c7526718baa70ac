import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LoadRecord } from './load.ts'
import type { Verification, DrainResult } from './verify.ts'
import type { MemoryPeak, Sample, Service } from './sampler.ts'
import type { RateResult } from './ceilings.ts'
import type { UnitsBack } from './scenarios.ts'
import type { FloorReport } from './floor.ts'
import { naiveLines, type NaiveComparison } from './versus-naive.ts'
import { payLines, type PayReport } from './pay.ts'
import { crowdLines, type CrowdReport } from './crowd.ts'
import { COMPONENTS, type Component } from './cpu.ts'

// One report per run: a table on the terminal, the same numbers as JSON, and a chart (SVG) of
// requests/s, p99 and stock left second by second — bench/results/ is git-ignored.

export interface LatencyStats { p50: number, p90: number, p99: number, max: number, mean: number }

export interface LoadStats {
  requests: number
  answered: number
  durationSeconds: number
  requestsPerSecond: number
  latencyMs: LatencyStats
  statusCounts: Record<string, number>
  codes: Record<string, number>
  errors: number
  timeouts: number
}

export interface SecondPoint { second: number, responses: number, accepted: number, refused: number, p99Ms: number | null }

export interface Target { name: string, goal: string, value: string, met: boolean | null }

/** One scenario of the run, as the report keeps it. */
export interface ScenarioSummary {
  name: string
  productId: number
  /** units on sale over the scenario (restocked ones included) */
  stock: number
  requests: number
  connections: number
  requestsPerSecond: number
  toHttpCeiling: number | null
  acceptedPerSecond: number
  latencyMs: LatencyStats
  statusCounts: Record<string, number>
  accepted: number
  slowOver2s: number
  drainMs: number
  processorPerSecond: number
  processorKeptUp: boolean
  processorToSqlCeiling: number | null
  cpuSeconds: Partial<Record<Component, number>>
  cpuMicrosPerAccepted: Partial<Record<Component, number>>
  cpuMicrosPerAcceptedTotal: number | null
  cpuMicrosPerRequestTotal: number
  memory: Partial<Record<Service, { pid: number, peakRssMb: number, vmHwmMb: number | null }>>
  unitsBack: UnitsBack | null
  invariantsHold: boolean
}

export interface Report {
  runId: string
  startedAt: string
  machine: { cpus: number, node: string }
  knobs: Record<string, string | number>
  /** the first product sale of the run (null, with `sale`, `drain` and `throughput`: none ran) */
  productId: number | null
  sale: (LoadStats & {
    /** the scenario these details are of (the first one run) */
    scenario: string
    path: string
    url: string
    accepted: number
    /** ms from the first request to the STOCK-th 202 (null: never sold out) */
    sellOutMs: number | null
    firstRefusalMs: number | null
    last202SentMs: number | null
    last202ReceivedMs: number | null
  }) | null
  drain: DrainResult | null
  throughput: {
    /** confirmed orders / (first request → last order written) */
    confirmedPerSecondEndToEnd: number
    /** confirmed orders / (first → last MySQL write of the sale's orders) */
    processorPerSecond: number
    processorPeakPerSecond: number
    /** the processor wrote its last order within 500 ms of the last 202: its rate is the arrival rate */
    processorKeptUp: boolean
  } | null
  memory: Partial<Record<Service, { pid: number, peakRssMb: number, vmHwmMb: number | null }>>
  ceilings: {
    http: (LoadStats & { path: string }) | null
    redis: RateResult | null
    sql: RateResult | null
  }
  ratios: { gatewayToHttp: number | null, processorToSql: number | null, gatewayToRedis: number | null }
  /** what verifying one buyer's access token costs (every order carries one), measured in the bench process */
  tokenVerifyMicros: { wall: number, cpu: number }
  scenarios: ScenarioSummary[]
  /** the per-request CPU floor of the gateway beside a bare route (SCENARIOS=floor) */
  floor: FloorReport | null
  /** ours ÷ the naive app of bench/naive/ under the same sale (SCENARIOS=naive) */
  naive: NaiveComparison | null
  /** a priced sale with a payment window (SCENARIOS=pay) */
  pay: PayReport | null
  /** the same crowd with the waiting room and without it (SCENARIOS=crowd) */
  crowd: CrowdReport | null
  targets: Target[]
  verification: Verification
  series: { seconds: SecondPoint[], stock: Array<{ ms: number, stock: number | null }>, confirmed: Array<{ ms: number, total: number }> }
}

export const percentile = (sorted: Float64Array, p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))] ?? 0

export function latencyStats (values: Float64Array): LatencyStats {
  const answered = values.filter((v) => v >= 0).sort()
  const sum = answered.reduce((a, b) => a + b, 0)
  return {
    p50: percentile(answered, 50),
    p90: percentile(answered, 90),
    p99: percentile(answered, 99),
    max: answered.length ? answered[answered.length - 1] ?? 0 : 0,
    mean: answered.length ? sum / answered.length : 0
  }
}

export function loadStats (load: LoadRecord): LoadStats {
  const statusCounts: Record<string, number> = {}
  let answered = 0
  let lastReceived = 0
  for (let i = 0; i < load.status.length; i++) {
    const status = load.status[i] ?? 0
    const key = status === 0 ? 'none' : String(status)
    statusCounts[key] = (statusCounts[key] ?? 0) + 1
    if (status !== 0) answered++
    lastReceived = Math.max(lastReceived, load.receivedAt[i] ?? 0)
  }
  const codes: Record<string, number> = {}
  for (const code of load.codes.values()) codes[code] = (codes[code] ?? 0) + 1
  const durationSeconds = lastReceived / 1000
  return {
    requests: load.status.length,
    answered,
    durationSeconds,
    requestsPerSecond: durationSeconds > 0 ? answered / durationSeconds : 0,
    latencyMs: latencyStats(load.latencyMs),
    statusCounts,
    codes,
    errors: load.summary.errors,
    timeouts: load.summary.timeouts
  }
}

/** Responses, 202s, 409s and p99 latency per second of the sale (by time of answer). */
export function perSecond (load: LoadRecord): SecondPoint[] {
  const buckets: Array<{ latencies: number[], accepted: number, refused: number }> = []
  for (let i = 0; i < load.status.length; i++) {
    const at = load.receivedAt[i] ?? -1
    if (at < 0) continue
    const second = Math.floor(at / 1000)
    while (buckets.length <= second) buckets.push({ latencies: [], accepted: 0, refused: 0 })
    const bucket = buckets[second]!
    bucket.latencies.push(load.latencyMs[i] ?? 0)
    if (load.status[i] === 202) bucket.accepted++
    if (load.codes.get(i) === 'INSUFFICIENT_STOCK') bucket.refused++
  }
  return buckets.map((b, second) => ({
    second,
    responses: b.latencies.length,
    accepted: b.accepted,
    refused: b.refused,
    p99Ms: b.latencies.length ? percentile(Float64Array.from(b.latencies).sort(), 99) : null
  }))
}

export const mb = (kb: number): number => Math.round(kb / 1024 * 10) / 10

export function memoryOf (peaks: Partial<Record<Service, MemoryPeak>>): Report['memory'] {
  const memory: Report['memory'] = {}
  for (const [service, peak] of Object.entries(peaks) as Array<[Service, MemoryPeak]>) {
    memory[service] = { pid: peak.pid, peakRssMb: mb(peak.peakRssKb), vmHwmMb: peak.vmHwmKb === null ? null : mb(peak.vmHwmKb) }
  }
  return memory
}

export function stockSeries (samples: Sample[], epochAt0: number): Report['series']['stock'] {
  return samples.map((s) => ({ ms: s.at - epochAt0, stock: s.stock }))
}

// ---------------------------------------------------------------------------------------------------
// terminal table

export const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const pct = (r: number | null): string => r === null ? '—' : `${(r * 100).toFixed(0)}%`

export function renderTable (report: Report): string {
  const out = [...saleTable(report), ...scenarioLines(report), ...floorLines(report.floor), ...naiveLines(report.naive), ...payLines(report.pay), ...crowdLines(report.crowd), '', 'targets:']
  for (const t of report.targets) out.push(`  ${t.met === null ? '  n/a ' : t.met ? '  met' : 'MISSED'}  ${t.name}: ${t.value} (goal ${t.goal})`)
  out.push('', `invariants: ${report.verification.passed ? 'all hold' : 'VIOLATED'}`)
  for (const c of report.verification.checks) out.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.id} ${c.name}: ${c.detail}`)
  for (const w of report.verification.warnings) out.push(`  warn  ${w}`)
  return out.join('\n')
}

/** The first product sale beside the ceilings (nothing when no product sale ran). */
function saleTable (report: Report): string[] {
  const s = report.sale
  const h = report.ceilings.http
  if (s === null || report.drain === null || report.throughput === null) return []
  const rows: Array<[string, string, string]> = [
    ['', `sale (${s.path})`, 'ceiling'],
    ['requests/s', fmt(s.requestsPerSecond), h ? `${fmt(h.requestsPerSecond)} bare Fastify (${pct(report.ratios.gatewayToHttp)})` : '—'],
    ['latency p50 / p90 ms', `${fmt(s.latencyMs.p50, 1)} / ${fmt(s.latencyMs.p90, 1)}`, h ? `${fmt(h.latencyMs.p50, 1)} / ${fmt(h.latencyMs.p90, 1)}` : '—'],
    ['latency p99 / max ms', `${fmt(s.latencyMs.p99, 1)} / ${fmt(s.latencyMs.max, 1)}`, h ? `${fmt(h.latencyMs.p99, 1)} / ${fmt(h.latencyMs.max, 1)}` : '—'],
    ['status counts', Object.entries(s.statusCounts).map(([k, v]) => `${k}: ${v}`).join('  '), h ? Object.entries(h.statusCounts).map(([k, v]) => `${k}: ${v}`).join('  ') : '—'],
    ['error codes', Object.entries(s.codes).map(([k, v]) => `${k}: ${v}`).join('  ') || '—', ''],
    ['time to sell out', s.sellOutMs === null ? 'did not sell out' : `${fmt(s.sellOutMs)} ms`, `first 409 at ${s.firstRefusalMs === null ? '—' : `${fmt(s.firstRefusalMs)} ms`}`],
    ['drain', report.drain.drained ? `${fmt(report.drain.drainMs)} ms` : `NOT drained (${report.drain.rows} rows)`, ''],
    ['confirmed/s end to end', fmt(report.throughput.confirmedPerSecondEndToEnd), ''],
    ['processor confirmed/s', `${fmt(report.throughput.processorPerSecond)} (peak 1 s: ${fmt(report.throughput.processorPeakPerSecond)})${report.throughput.processorKeptUp ? ' kept up with arrivals' : ''}`,
      report.ceilings.sql ? `${fmt(report.ceilings.sql.perSecond)} batched INSERT (${pct(report.ratios.processorToSql)})` : '—'],
    ['reservations/s', fmt(s.accepted / Math.max(0.001, (s.sellOutMs ?? s.durationSeconds * 1000) / 1000)),
      report.ceilings.redis ? `${fmt(report.ceilings.redis.perSecond)} Lua script alone (${pct(report.ratios.gatewayToRedis)} by requests/s)` : '—'],
    ...(Object.entries(report.memory) as Array<[string, { peakRssMb: number, vmHwmMb: number | null }]>).map(([service, m]): [string, string, string] =>
      [`peak RSS ${service}`, `${fmt(m.peakRssMb, 1)} MB`, `VmHWM ${fmt(m.vmHwmMb, 1)} MB`])
  ]
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)))
  const line = (r: [string, string, string]): string => `  ${r[0].padEnd(widths[0]!)}  ${r[1].padEnd(widths[1]!)}  ${r[2]}`
  return [`flash sale ${report.runId}: ${s.scenario}: STOCK ${report.knobs.STOCK}, ${s.requests} requests, ${report.knobs.CONNECTIONS} connections, ${report.machine.cpus} cores`, ...rows.map(line), '']
}

/** The gateway's CPU per request for its cheapest answers, beside the bare route, same run. */
export function floorLines (floor: FloorReport | null): string[] {
  if (floor === null) return []
  const head = ['', 'gateway', 'CPU µs/request (best)', 'vs bare', 'every round', 'req/s (best round)', 'other answers']
  const rows = floor.cases.map((c) => [
    `${c.name} (${c.expectedStatus})`, c.gateway, fmt(c.cpuMicrosPerRequest, 1), c.toBare === null ? '—' : `${c.toBare.toFixed(2)}×`,
    c.runs.map((r) => fmt(r, 1)).join(' / '), fmt(c.requestsPerSecond), fmt(c.unexpected)
  ])
  const table = [head, ...rows]
  const widths = head.map((_h, k) => Math.max(...table.map((r) => r[k]!.length)))
  return ['', `floor: each process's own CPU per request (the bare route in its own process; ${floor.gateways.map((g) => `${g.label}: ${g.url}, pid ${g.pid}`).join('; ')}), best of ${floor.rounds} rounds, ${floor.connections} connections:`,
    ...table.map((r) => '  ' + r.map((cell, k) => cell.padEnd(widths[k]!)).join('  '))]
}

/** Every scenario on one line, then the CPU each component spent per accepted order. */
function scenarioLines (report: Report): string[] {
  if (report.scenarios.length === 0) return []
  const head: string[] = ['scenario', 'req/s', 'vs bare', 'p99 ms', 'accepted', '>2 s', 'processor/s', 'vs SQL', 'CPU µs/accepted', 'RSS gw MB']
  const rows = report.scenarios.map((x) => [
    x.name, fmt(x.requestsPerSecond), pct(x.toHttpCeiling), fmt(x.latencyMs.p99, 1), fmt(x.accepted), fmt(x.slowOver2s),
    x.processorKeptUp ? `${fmt(x.processorPerSecond)} (kept up)` : fmt(x.processorPerSecond), pct(x.processorToSqlCeiling),
    fmt(x.cpuMicrosPerAcceptedTotal), fmt(x.memory['order-gateway']?.peakRssMb, 0)
  ])
  const table = [head, ...rows]
  const widths = head.map((_h, c) => Math.max(...table.map((r) => r[c]!.length)))
  const out = ['scenarios:', ...table.map((r) => '  ' + r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')),
    `  every order carries a signed-in buyer's token: verifying one costs ${fmt(report.tokenVerifyMicros.cpu, 1)} µs CPU (${fmt(report.tokenVerifyMicros.wall, 1)} µs wall) of the gateway's time per request`]
  const components = COMPONENTS.filter((c) => report.scenarios.some((x) => x.cpuMicrosPerAccepted[c] !== undefined))
  if (components.length > 0) {
    out.push('', 'CPU µs per accepted order, by component (first request → drain done):')
    const cw = Math.max(...components.map((c) => c.length))
    out.push(`  ${''.padEnd(cw)}  ${report.scenarios.map((x) => x.name.padStart(9)).join('  ')}`)
    for (const c of components) out.push(`  ${c.padEnd(cw)}  ${report.scenarios.map((x) => fmt(x.cpuMicrosPerAccepted[c]).padStart(9)).join('  ')}`)
  }
  for (const x of report.scenarios) {
    if (x.unitsBack) {
      const u = x.unitsBack
      out.push('', `${x.name}: ${u.units} units restocked (sent +${fmt(u.sentAtMs)} ms, answered +${fmt(u.backAtMs)} ms); ` +
        `sold again by ${u.soldAgainAtMs === null ? '— (not all)' : `+${fmt(u.soldAgainAtMs)} ms`}; after the restock answered: first 202 ${u.firstAcceptedAfterMs === null ? '— (none left)' : `after ${fmt(u.firstAcceptedAfterMs, 1)} ms`}, ` +
        `${u.falseRefusals} refusals while units lasted, the last ${fmt(u.windowMs, 1)} ms after (I5 window); ` +
        `${u.uncertainRefusals} more while the last accepted order awaited Kafka's ack (its unit may have been gone)`)
    }
  }
  return out
}

/** The same table as Markdown (latest.md), to paste where a run is discussed. */
export function renderMarkdown (report: Report): string {
  const s = report.sale
  const h = report.ceilings.http
  const lines: string[] = []
  if (s !== null && report.drain !== null && report.throughput !== null) {
    lines.push(
      '| | this run | ceiling (same run) | ratio |',
      '|---|---|---|---|',
      `| requests/s (${s.path}) | ${fmt(s.requestsPerSecond)} | ${h ? fmt(h.requestsPerSecond) : '—'} bare Fastify | ${pct(report.ratios.gatewayToHttp)} |`,
      `| latency p50 / p90 / p99 / max | ${fmt(s.latencyMs.p50, 1)} / ${fmt(s.latencyMs.p90, 1)} / ${fmt(s.latencyMs.p99, 1)} / ${fmt(s.latencyMs.max, 1)} ms | ${h ? `${fmt(h.latencyMs.p50, 1)} / ${fmt(h.latencyMs.p90, 1)} / ${fmt(h.latencyMs.p99, 1)} / ${fmt(h.latencyMs.max, 1)} ms` : '—'} | |`,
      `| status counts | ${Object.entries(s.statusCounts).map(([k, v]) => `${k}: ${v}`).join(', ')} | | |`,
      `| time to sell out | ${s.sellOutMs === null ? 'did not sell out' : `${fmt(s.sellOutMs)} ms`} | | |`,
      `| drain (last answer → last order written) | ${fmt(report.drain.drainMs)} ms | | |`,
      `| confirmed orders/s, end to end | ${fmt(report.throughput.confirmedPerSecondEndToEnd)} | | |`,
      `| processor confirmed orders/s | ${fmt(report.throughput.processorPerSecond)} | ${report.ceilings.sql ? fmt(report.ceilings.sql.perSecond) : '—'} batched INSERT | ${pct(report.ratios.processorToSql)} |`,
      `| reservation script alone | | ${report.ceilings.redis ? fmt(report.ceilings.redis.perSecond) : '—'} /s | |`,
      ...Object.entries(report.memory).map(([service, m]) => `| peak RSS ${service} | ${fmt(m?.peakRssMb, 1)} MB | | |`)
    )
  }
  lines.push(
    '',
    '| target | goal | this run | |',
    '|---|---|---|---|',
    ...report.targets.map((t) => `| ${t.name} | ${t.goal} | ${t.value} | ${t.met === null ? 'undecided' : t.met ? 'met' : '**missed**'} |`)
  )
  lines.push('', '```', ...scenarioLines(report), ...floorLines(report.floor), ...naiveLines(report.naive), ...payLines(report.pay), ...crowdLines(report.crowd), '```')
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------------
// chart

export const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export interface Line { points: Array<[number, number]>, color: string, label: string, step?: boolean }

export function panel (y0: number, height: number, width: number, xMax: number, title: string, lines: Line[]): string {
  const left = 70
  const right = width - 20
  const yMax = Math.max(1, ...lines.flatMap((l) => l.points.map((p) => p[1]))) * 1.1
  const sx = (x: number): number => left + (x / Math.max(xMax, 0.001)) * (right - left)
  const sy = (y: number): number => y0 + height - (y / yMax) * height
  const parts = [`<text x="${left}" y="${y0 - 8}" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${left}" y1="${y0 + height}" x2="${right}" y2="${y0 + height}" stroke="#999"/>`,
    `<line x1="${left}" y1="${y0}" x2="${left}" y2="${y0 + height}" stroke="#999"/>`]
  const xStep = xMax <= 10 ? 1 : xMax <= 30 ? 5 : xMax <= 120 ? 10 : 30
  for (let x = 0; x <= xMax; x += xStep) {
    parts.push(`<text x="${sx(x).toFixed(1)}" y="${y0 + height + 13}" font-size="10" text-anchor="middle">${x}s</text>`)
  }
  for (let k = 0; k <= 4; k++) {
    const v = (yMax / 1.1) * k / 4
    parts.push(`<text x="${left - 6}" y="${sy(v) + 4}" font-size="10" text-anchor="end">${fmt(v, v < 10 ? 1 : 0)}</text>`,
      `<line x1="${left}" y1="${sy(v)}" x2="${right}" y2="${sy(v)}" stroke="#eee"/>`)
  }
  lines.forEach((l, k) => {
    const pts: Array<[number, number]> = l.step
      ? l.points.flatMap(([x, y], i): Array<[number, number]> => i === 0 ? [[x, y]] : [[x, l.points[i - 1]![1]], [x, y]])
      : l.points
    parts.push(`<polyline fill="none" stroke="${l.color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      `<text x="${right - 4}" y="${y0 + 14 + k * 14}" font-size="11" text-anchor="end" fill="${l.color}">${esc(l.label)}</text>`)
  })
  return parts.join('\n')
}

export function renderSvg (report: Report): string {
  const width = 900
  const seconds = report.series.seconds
  const stock = report.series.stock.filter((p) => p.stock !== null && p.ms >= 0) as Array<{ ms: number, stock: number }>
  const xMax = Math.max(seconds.length, ...stock.map((p) => p.ms / 1000), ...report.series.confirmed.map((p) => p.ms / 1000))
  const mid = (s: SecondPoint): number => s.second + 0.5
  const body = [
    panel(55, 150, width, xMax, 'responses per second', [
      { points: seconds.map((s) => [mid(s), s.responses]), color: '#1f77b4', label: 'all responses' },
      { points: seconds.map((s) => [mid(s), s.accepted]), color: '#2ca02c', label: '202 accepted' },
      { points: seconds.map((s) => [mid(s), s.refused]), color: '#d62728', label: '409 sold out' }
    ]),
    panel(260, 150, width, xMax, 'p99 latency per second (ms)', [
      { points: seconds.filter((s) => s.p99Ms !== null).map((s) => [mid(s), s.p99Ms ?? 0]), color: '#9467bd', label: 'p99 ms' }
    ]),
    panel(465, 150, width, xMax, 'units: left in Redis (250 ms samples) and confirmed in MySQL', [
      { points: stock.map((p) => [p.ms / 1000, p.stock]), color: '#ff7f0e', label: 'stock left (Redis)', step: true },
      { points: report.series.confirmed.map((p) => [p.ms / 1000, p.total]), color: '#17becf', label: 'orders confirmed (MySQL)', step: true }
    ]),
    `<text x="${width / 2}" y="650" font-size="11" text-anchor="middle">seconds since the first request</text>`
  ]
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="660" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">flash sale ${esc(report.runId)}: ${report.knobs.REQUESTS} requests for ${report.knobs.STOCK} units over ${report.knobs.CONNECTIONS} connections (${esc(report.sale?.path ?? 'no sale ran')})</text>
${body.join('\n')}
</svg>
`
}

/** Writes <runId>.json and <runId>.svg, and copies them to latest.json / latest.svg / latest.md. */
export function writeReport (report: Report, dir: string): { json: string, svg: string, markdown: string } {
  mkdirSync(dir, { recursive: true })
  const json = join(dir, `${report.runId}.json`)
  const svg = join(dir, `${report.runId}.svg`)
  writeFileSync(json, JSON.stringify(report, null, 2))
  writeFileSync(svg, renderSvg(report))
  const markdown = join(dir, 'latest.md')
  writeFileSync(markdown, renderMarkdown(report) + '\n')
  copyFileSync(json, join(dir, 'latest.json'))
  copyFileSync(svg, join(dir, 'latest.svg'))
  return { json, svg, markdown }
}
