// One live stream per page (GET /api/admin/live, docs/ARCHITECTURE.md §11) for the products the page
// shows: a series of points per product, reopened when the products change, when the server ends the
// stream (every 10 minutes) or when it failed (after a pause; a full server says when to retry).
import { onBeforeUnmount, ref, shallowRef, watch, type Ref } from 'vue'
import { addPoints, LiveStreamRefused, pointsOf, readLiveStream, type LivePoint } from '../live-stream.ts'

/** seconds of history a chart shows */
export const LIVE_SECONDS = 60
const RETRY_MS = 2000

export type LiveState = 'connecting' | 'live' | 'retrying' | 'refused'

export function useLiveSale(productIds: Ref<number[]>, token: Ref<string | null>, onPoint?: (point: LivePoint) => void) {
  const series = shallowRef<Record<number, LivePoint[]>>({})
  const state = ref<LiveState>('connecting')
  let abort: AbortController | null = null
  let retry: ReturnType<typeof setTimeout> | undefined

  function receive(points: LivePoint[]): void {
    if (points.length === 0) return
    const next = { ...series.value }
    for (const point of points) {
      next[point.productId] = addPoints(next[point.productId] ?? [], [point], LIVE_SECONDS)
      onPoint?.(point)
    }
    series.value = next
  }

  function open(): void {
    close()
    const ids = [...new Set(productIds.value)].slice(0, 20)
    const key = token.value
    if (ids.length === 0 || key === null) return
    const controller = new AbortController()
    abort = controller
    state.value = 'connecting'
    const url = `/api/admin/live?${ids.map((id) => `productId=${id}`).join('&')}`
    readLiveStream(url, key, controller.signal, (event) => {
      state.value = 'live'
      receive(pointsOf(event))
    })
      .catch((err: unknown) => {
        if (err instanceof LiveStreamRefused && (err.status === 401 || err.status === 403)) state.value = 'refused'
      })
      .finally(() => {
        if (controller.signal.aborted || state.value === 'refused') return
        state.value = 'retrying'
        retry = setTimeout(open, RETRY_MS)
      })
  }

  function close(): void {
    clearTimeout(retry)
    abort?.abort()
    abort = null
  }

  watch([() => productIds.value.join(','), token], open, { immediate: true })
  onBeforeUnmount(close)
  return { series, state }
}
