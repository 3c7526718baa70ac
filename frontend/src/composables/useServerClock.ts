import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'
import { serverNow } from '../api.ts'

// One ticking clock for every countdown on the page: the servers' time as the browser
// best knows it (api.ts corrects for the device's clock offset from X-Server-Time). It ticks
// 4× a second so a Buy button flips within 250 ms of the start, and only while someone watches.
const TICK_MS = 250
const now = ref(serverNow())
let watchers = 0
let timer: ReturnType<typeof setInterval> | undefined

export function useServerClock(): Ref<number> {
  onMounted(() => {
    if (watchers++ === 0) {
      now.value = serverNow()
      timer = setInterval(() => { now.value = serverNow() }, TICK_MS)
    }
  })
  onBeforeUnmount(() => {
    if (--watchers === 0) clearInterval(timer)
  })
  return now
}

/** "2d 03:04:05", "03:04:05" or "04:05": time left until a sale bound. */
export function formatCountdown(ms: number, daysLabel: (n: number) => string): string {
  const total = Math.max(0, Math.ceil(ms / 1000))
  const days = Math.floor(total / 86_400)
  const hours = Math.floor((total % 86_400) / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = total % 60
  const two = (n: number) => String(n).padStart(2, '0')
  const clock = hours > 0 || days > 0 ? `${two(hours)}:${two(minutes)}:${two(seconds)}` : `${two(minutes)}:${two(seconds)}`
  return days > 0 ? `${daysLabel(days)} ${clock}` : clock
}
