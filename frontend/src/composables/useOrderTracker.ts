import { reactive, watch } from 'vue'
import { ApiError, getOrder, isFinal, serverNow, type OrderStatus } from '../api.ts'
import { receiptFor } from '../session.ts'

export interface TrackedOrder {
  /** Set once the gateway accepted it (202); null when the order was refused outright. */
  orderId: string | null
  productId: number
  productName: string
  quantity: number
  status: OrderStatus | 'rejected'
  /** the processor's failure reason as it stored it ("insufficient stock", …); translated when shown */
  reason: string | null
  /** why the gateway refused the order (an ApiError), translated when shown */
  error?: unknown
  /** the buyer who placed it (per-user limits count only their own orders) */
  userId?: string
  at: string
  /** the end of the hold while the order awaits payment (ISO 8601) */
  payBy?: string | null
}

type FateListener = (order: TrackedOrder) => void
const listeners = new Set<FateListener>()

/** Called when a tracked order's status changes (held for payment, paid, confirmed, failed, expired, cancelled). */
export function onFate(listener: FateListener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

// One list per browser, kept across route changes and reloads (localStorage) so the buyer still sees
// an order's fate, and what it counts toward a per-buyer limit, after looking at another page.
const STORAGE_KEY = 'flash.trackedOrders'
const KEEP = 50

function restore(): TrackedOrder[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]')
    if (!Array.isArray(parsed)) return []
    return (parsed as TrackedOrder[]).filter((o) => typeof o?.productId === 'number').slice(0, KEEP).map((o) => {
      const e = o.error as Partial<ApiError> | undefined
      // A refusal's ApiError comes back as its fields: enough to translate it again.
      return e && typeof e.code === 'string' ? { ...o, error: new ApiError(e.status ?? 0, e.code, '', e.available, undefined, e.details ?? {}) } : o
    })
  } catch {
    return []
  }
}

const orders = reactive<TrackedOrder[]>(restore())
watch(orders, (all) => localStorage.setItem(STORAGE_KEY, JSON.stringify(all)), { deep: true })
let timer: ReturnType<typeof setTimeout> | undefined
let inFlight = false

function open(): TrackedOrder[] {
  return orders.filter((o) => o.orderId !== null && !isFinal(o.status as OrderStatus))
}

// A held order changes only when its buyer pays (the checkout page follows that once a second) or
// when the hold ends: between those it is asked about every tenth round, so a crowd of buyers holding
// units for ten minutes does not become a crowd of reads.
const HELD_EVERY = 10
let round = -1

function due(tracked: TrackedOrder): boolean {
  if (tracked.status !== 'awaiting_payment') return true
  const payBy = tracked.payBy ? Date.parse(tracked.payBy) : Number.NaN
  return round % HELD_EVERY === 0 || !(serverNow() < payBy)
}

async function poll(): Promise<void> {
  timer = undefined
  inFlight = true
  round++
  try {
    await Promise.all(
      open().filter(due).map(async (tracked) => {
        try {
          // A guest order is read with its receipt; a buyer's with the session cookie.
          const receipt = receiptFor(tracked.orderId as string)
          const order = await getOrder(tracked.orderId as string, receipt === undefined ? {} : { receipt })
          const changed = order.status !== tracked.status
          tracked.status = order.status
          tracked.reason = order.reason
          tracked.payBy = order.payBy ?? null
          if (order.productName) tracked.productName = order.productName
          if (changed) for (const listener of listeners) listener(tracked)
        } catch {
          // A blip, or a 404 in the instant after the 202: still pending, ask again next round.
        }
      }),
    )
  } finally {
    inFlight = false
  }
  schedule()
}

function schedule(): void {
  // At most one round a second: a crowd of buyers must not multiply the gateway's reads.
  if (timer === undefined && !inFlight && open().length > 0) timer = setTimeout(poll, 1000)
}

/**
 * Follows the orders placed in the shop from `pending` to their fate (held for payment, then paid or
 * expired; confirmed; failed with the reason) by polling GET /orders/:id; finished orders are no
 * longer asked about.
 */
export function useOrderTracker() {
  function track(order: TrackedOrder): void {
    orders.unshift(order)
    if (orders.length > KEEP) orders.length = KEEP
    schedule()
  }
  // Orders restored from an earlier visit that were still open are followed again, held ones too
  // (they may have been paid on the checkout page meanwhile).
  round = -1
  schedule()
  return { orders, track, isFinal }
}
