import { execFileSync } from 'node:child_process'

/** USER_HZ: the unit of /proc/<pid>/stat's CPU times (100 on Linux unless the kernel says otherwise). */
export const clockTicksPerSecond: number = (() => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return value > 0 ? value : 100
  } catch { return 100 }
})()
