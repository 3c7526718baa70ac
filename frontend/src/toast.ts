// Toasts: an order's outcome is shown where the buyer's eyes are — at the button and in a
// toast pinned to the bottom of the screen — instead of a list far below on a phone.
import { reactive } from 'vue'

export interface Toast {
  id: number
  kind: 'ok' | 'error' | 'info'
  /** computed at render time, so a toast follows a language switch */
  text: () => string
}

const MAX_TOASTS = 3
const SHOW_MS = 6000
let nextId = 1

export const toasts = reactive<Toast[]>([])

export function dismissToast(id: number): void {
  const index = toasts.findIndex((toast) => toast.id === id)
  if (index >= 0) toasts.splice(index, 1)
}

/** Shows a toast for a few seconds (at most three at once: the oldest gives way). */
export function showToast(kind: Toast['kind'], text: () => string): number {
  const id = nextId++
  toasts.push({ id, kind, text })
  while (toasts.length > MAX_TOASTS) toasts.shift()
  setTimeout(() => dismissToast(id), SHOW_MS)
  return id
}
