import { reactive } from 'vue'
import { getOrder, isFinal, type OrderStatus } from '../api.ts'
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
}

type FateListener = (order: TrackedOrder) => void
const listeners = new Set<FateListener>()

/** Called when a tracked order leaves `pending` (confirmed, failed, cancelled). */
export function onFate(listener: FateListener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

// One list per browser tab, kept across route changes so the buyer still sees an order's fate
// after looking at another page.
const orders = reactive<TrackedOrder[]>([])
let timer: ReturnType<typeof setTimeout> | undefined
let inFlight = false

function open(): TrackedOrder[] {
  return orders.filter((o) => o.orderId !== null && o.status === 'pending')
}

async function poll(): Promise<void> {
  timer = undefined
  inFlight = true
  try {
    await Promise.all(
      open().map(async (tracked) => {
        try {
          // A guest order is read with its receipt; a buyer's with the session cookie.
          const receipt = receiptFor(tracked.orderId as string)
          const order = await getOrder(tracked.orderId as string, receipt === undefined ? {} : { receipt })
          const changed = order.status !== tracked.status
          tracked.status = order.status
          tracked.reason = order.reason
          if (order.productName) tracked.productName = order.productName
          if (changed && order.status !== 'pending') for (const listener of listeners) listener(tracked)
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
 * Follows the orders placed in the shop from `pending` to their fate (confirmed, or failed with
 * the reason) by polling GET /orders/:id; finished orders are no longer asked about.
 */
export function useOrderTracker() {
  function track(order: TrackedOrder): void {
    orders.unshift(order)
    if (orders.length > 50) orders.length = 50
    schedule()
  }
  return { orders, track, isFinal }
}
