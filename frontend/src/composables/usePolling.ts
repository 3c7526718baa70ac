import { onBeforeUnmount, onMounted } from 'vue'

/**
 * Calls `tick` every `intervalMs` while the component is mounted and the tab is visible. A tick
 * never overlaps the previous one, so a slow backend does not pile up requests.
 */
export function usePolling(tick: () => Promise<void>, intervalMs: number): { refresh: () => Promise<void> } {
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
