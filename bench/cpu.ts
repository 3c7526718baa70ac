import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { clockTicksPerSecond } from './clock-ticks.ts'
import { servicePid, SERVICES } from './sampler.ts'

// CPU time each component of the stack used during a scenario, from /proc/<pid>/stat (utime + stime,
// children not included), so the report can say what one accepted order costs the whole machine and
// which component bounds it. Components are found by the pid files `make local` writes (.local/run);
// nginx counts its workers (children of the master). A component whose pid is unknown is left out.

export const COMPONENTS = [
  ...SERVICES, 'redis (6 nodes)', 'kafka', 'mariadb', 'nginx', 'bench (load generator)'
] as const
export type Component = typeof COMPONENTS[number]

export type CpuSnapshot = Map<Component, number>

/** utime + stime of one process, in clock ticks (null: gone) */
export function cpuTicks (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15 of stat)
  } catch { return null }
}

/** the live pid of a component `make local` started (its pid file in .local/run), or null */
export const pidFile = (runDir: string, name: string): number | null => {
  try {
    const pid = Number(readFileSync(join(runDir, `${name}.pid`), 'utf8').trim())
    return pid > 0 && cpuTicks(pid) !== null ? pid : null
  } catch { return null }
}

function childrenOf (parent: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) out.push(Number(entry))
    } catch { /* gone */ }
  }
  return out
}

/** The pids of each component, resolved once per scenario. */
export function componentPids (runDir: string): Map<Component, number[]> {
  const pids = new Map<Component, number[]>()
  for (const service of SERVICES) {
    const pid = servicePid(runDir, service)
    if (pid !== null) pids.set(service, [pid])
  }
  const redis = [7001, 7002, 7003, 7004, 7005, 7006].map((port) => pidFile(runDir, `redis-${port}`)).filter((p) => p !== null)
  if (redis.length > 0) pids.set('redis (6 nodes)', redis)
  for (const name of ['kafka', 'mariadb'] as const) {
    const pid = pidFile(runDir, name)
    if (pid !== null) pids.set(name, [pid])
  }
  const nginx = pidFile(runDir, 'nginx')
  if (nginx !== null) pids.set('nginx', [nginx, ...childrenOf(nginx)])
  return pids
}

export function cpuSnapshot (pids: Map<Component, number[]>): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map()
  for (const [component, list] of pids) {
    let ticks = 0
    for (const pid of list) ticks += cpuTicks(pid) ?? 0
    snapshot.set(component, ticks)
  }
  const own = process.cpuUsage()
  snapshot.set('bench (load generator)', (own.user + own.system) / 1e6 * clockTicksPerSecond)
  return snapshot
}

/** CPU seconds per component between two snapshots. */
export function cpuSeconds (before: CpuSnapshot, after: CpuSnapshot): Partial<Record<Component, number>> {
  const out: Partial<Record<Component, number>> = {}
  for (const [component, ticks] of after) {
    out[component] = Math.max(0, ticks - (before.get(component) ?? ticks)) / clockTicksPerSecond
  }
  return out
}
