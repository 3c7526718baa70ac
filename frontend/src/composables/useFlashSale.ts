import { computed, reactive } from 'vue'
import { ApiError, archiveProduct, createProduct, getOrder, getProduct, newIdempotencyKey, placeOrderWithRetry } from '../api.ts'
import { MIN_POLL_MS } from './usePolling.ts'

export type Phase = 'idle' | 'preparing' | 'firing' | 'settling' | 'done' | 'stopped'

export interface SaleSettings {
  /** units the simulator's own product starts with */
  units: number
  buyers: number
  concurrency: number
  quantity: number
}

/** The simulator's products are named so, and nothing else is ever sold by it. */
export const SIM_PREFIX = '[SIM]'

export interface Verdict {
  confirmedUnits: number
  unitsLost: number
  oversold: number
  failedOrders: number
  ok: boolean
}

interface Accepted { orderId: string; quantity: number; receipt: string }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Drives a flash sale from the browser: N guest buyers, at most `concurrency` orders
 * in flight, then polls every accepted order until none is pending and checks the invariants —
 * units confirmed must equal the units the product lost, and nothing may be oversold.
 */
export function useFlashSale() {
  const state = reactive({
    phase: 'idle' as Phase,
    sent: 0,
    accepted: 0,
    soldOut: 0,
    failed: 0,
    pending: 0,
    productId: null as number | null,
    reasons: {} as Record<string, number>,
    startStock: null as number | null,
    stock: null as number | null,
    verdict: null as Verdict | null,
    error: null as unknown,
  })
  let stopRequested = false
  let stockTimer: ReturnType<typeof setInterval> | undefined

  const running = computed(() => state.phase === 'preparing' || state.phase === 'firing' || state.phase === 'settling')

  function reset(): void {
    Object.assign(state, { sent: 0, accepted: 0, soldOut: 0, failed: 0, pending: 0, productId: null, reasons: {}, verdict: null, error: null })
  }

  function watchStock(productId: number): void {
    clearInterval(stockTimer)
    stockTimer = setInterval(async () => {
      try {
        state.stock = (await getProduct(productId)).stock
      } catch {
        // the counters and the verdict matter more than one missed stock sample
      }
    }, MIN_POLL_MS)
  }

  // The buyers are guests: no account is created for a simulated buyer, and each order is read back
  // with its receipt. The simulator's product has no per-buyer limit, so guests may buy it.
  async function fire(productId: number, settings: SaleSettings): Promise<Accepted[]> {
    const accepted: Accepted[] = []
    let next = 0
    const buyer = async (): Promise<void> => {
      while (!stopRequested) {
        const i = next++
        if (i >= settings.buyers) return
        state.sent++
        try {
          const answer = await placeOrderWithRetry({ productId, quantity: settings.quantity }, newIdempotencyKey())
          accepted.push({ orderId: answer.orderId, quantity: settings.quantity, receipt: answer.receipt ?? '' })
          state.accepted++
        } catch (err) {
          if (err instanceof ApiError && err.code === 'INSUFFICIENT_STOCK') {
            state.soldOut++
          } else {
            state.failed++
            const code = err instanceof ApiError ? err.code : 'INTERNAL_ERROR'
            state.reasons[code] = (state.reasons[code] ?? 0) + 1
          }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, settings.concurrency) }, buyer))
    return accepted
  }

  /** Polls the accepted orders until none is pending; returns confirmed units and failed orders. */
  async function settle(accepted: Accepted[]): Promise<{ confirmedUnits: number; failedOrders: number }> {
    let open = accepted.slice()
    let confirmedUnits = 0
    let failedOrders = 0
    while (open.length > 0 && !stopRequested) {
      state.pending = open.length
      const stillOpen: typeof open = []
      for (let i = 0; i < open.length; i += 20) {
        const batch = open.slice(i, i + 20)
        const answers = await Promise.all(batch.map((o) => getOrder(o.orderId, { receipt: o.receipt }).catch(() => null)))
        answers.forEach((order, j) => {
          const sent = batch[j]
          if (sent === undefined) return
          if (order === null || order.status === 'pending') stillOpen.push(sent)
          else if (order.status === 'confirmed') confirmedUnits += order.quantity
          else failedOrders++
        })
      }
      open = stillOpen
      state.pending = open.length
      if (open.length > 0) await sleep(MIN_POLL_MS)
    }
    return { confirmedUnits, failedOrders }
  }

  /**
   * Runs a sale on a product made for it (never a live one), with the admin token, and
   * archives that product afterwards whatever happened, so it never lingers in the shop.
   */
  async function start(settings: SaleSettings, adminToken: string): Promise<void> {
    if (running.value) return
    stopRequested = false
    reset()
    const runId = newIdempotencyKey().slice(0, 8)
    let productId: number | null = null
    try {
      state.phase = 'preparing'
      // Free: the simulator measures the sale itself, not payments.
      productId = (await createProduct(adminToken, { name: `${SIM_PREFIX} ${runId}`, stock: settings.units, price: 0, perUserLimit: null }, 'simulator')).id
      state.productId = productId
      const startStock = (await getProduct(productId)).stock
      state.startStock = startStock
      state.stock = startStock
      watchStock(productId)
      state.phase = 'firing'
      const accepted = await fire(productId, settings)
      state.phase = 'settling'
      const { confirmedUnits, failedOrders } = await settle(accepted)
      if (stopRequested) {
        state.phase = 'stopped'
        return
      }
      // Failed orders give their units back to Redis just after MySQL records the failure, so
      // allow the stock a few seconds to converge (I4) before comparing.
      let endStock = (await getProduct(productId)).stock
      for (let waited = 0; startStock - endStock !== confirmedUnits && waited < 6000; waited += MIN_POLL_MS) {
        await sleep(MIN_POLL_MS)
        endStock = (await getProduct(productId)).stock
      }
      state.stock = endStock
      const unitsLost = startStock - endStock
      const oversold = Math.max(0, confirmedUnits - startStock, -endStock)
      state.verdict = { confirmedUnits, unitsLost, oversold, failedOrders, ok: confirmedUnits === unitsLost && oversold === 0 }
      state.phase = 'done'
    } catch (err) {
      state.error = err
      state.phase = 'stopped'
    } finally {
      clearInterval(stockTimer)
      if (productId !== null) await archiveProduct(adminToken, productId).catch(() => {})
    }
  }

  function stop(): void {
    stopRequested = true
  }

  return { state, running, start, stop }
}
