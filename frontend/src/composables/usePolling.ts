import { onBeforeUnmount, onMounted } from 'vue'

/**
 * Calls `tick` every `intervalMs` while the component is mounted and the tab is visible. A tick
 * never overlaps the previous one, so a slow backend does not pile up requests.
 */
// A crowd of open tabs must not become a crowd of requests — never more than one a second
// (nginx micro-caches product reads for exactly that long, so faster polling would see nothing new).
export const MIN_POLL_MS = 1000

export function usePolling(tick: () => Promise<void>, requestedMs: number): { refresh: () => Promise<void> } {
  const intervalMs = Math.max(requestedMs, MIN_POLL_MS)
  let timer: ReturnType<typeof setTimeout> | undefined
  let running = false
  let stopped = false

  async function refresh(): Promise<void> {
    if (running) return
    running = true
    try {
      await tick()
    } finally {
      running = false
    }
  }

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(async () => {
      if (document.visibilityState === 'visible') await refresh()
      schedule()
    }, intervalMs)
  }

  onMounted(() => {
    void refresh()
    schedule()
  })
  onBeforeUnmount(() => {
    stopped = true
    clearTimeout(timer)
  })
  return { refresh }
}
