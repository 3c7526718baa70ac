import { computed, reactive } from 'vue'
import { ApiError, getOrder, getProduct, newIdempotencyKey, placeOrderWithRetry, register } from '../api.ts'
import { MIN_POLL_MS } from './usePolling.ts'

export type Phase = 'idle' | 'signing-in' | 'firing' | 'settling' | 'done' | 'stopped'

export interface SaleSettings {
  productId: number
  buyers: number
  concurrency: number
  quantity: number
}

export interface Verdict {
  confirmedUnits: number
  unitsLost: number
  oversold: number
  failedOrders: number
  ok: boolean
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Drives a flash sale from the browser: N buyers (one user id each), at most `concurrency` orders
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
    signedIn: 0,
    reasons: {} as Record<string, number>,
    startStock: null as number | null,
    stock: null as number | null,
    verdict: null as Verdict | null,
    error: null as unknown,
  })
  let stopRequested = false
  let stockTimer: ReturnType<typeof setInterval> | undefined

  const running = computed(() => state.phase === 'signing-in' || state.phase === 'firing' || state.phase === 'settling')

  function reset(): void {
    Object.assign(state, { sent: 0, accepted: 0, soldOut: 0, failed: 0, pending: 0, signedIn: 0, reasons: {}, verdict: null, error: null })
  }

  /**
   * Every simulated buyer is a real account, signed in before the sale starts (untimed), so
   * each order carries a verified buyer and per-user limits apply. The tokens stay in memory (sent as
   * Bearer); `cookies: false` leaves this browser's own session alone. Sign-ups are limited per
   * address (they cost a scrypt hash each): a 429 waits for its Retry-After.
   */
  async function signIn(buyers: number, runId: string): Promise<string[]> {
    const tokens: string[] = []
    const password = newIdempotencyKey()
    let next = 0
    const worker = async (): Promise<void> => {
      while (!stopRequested) {
        const i = next++
        if (i >= buyers) return
        for (;;) {
          try {
            tokens[i] = (await register(`sim-${runId}-${i}`, password, false)).accessToken
            state.signedIn++
            break
          } catch (err) {
            if (!(err instanceof ApiError) || err.status !== 429 || stopRequested) throw err
            await sleep((err.retryAfter ?? 1) * 1000)
          }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(4, buyers) }, worker))
    return tokens
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

  async function fire(settings: SaleSettings, tokens: string[]): Promise<{ orderId: string; quantity: number; token: string }[]> {
    const accepted: { orderId: string; quantity: number; token: string }[] = []
    let next = 0
    const buyer = async (): Promise<void> => {
      while (!stopRequested) {
        const i = next++
        if (i >= settings.buyers) return
        state.sent++
        try {
          const token = tokens[i] ?? ''
          const answer = await placeOrderWithRetry(
            { productId: settings.productId, quantity: settings.quantity },
            newIdempotencyKey(),
            3,
            token,
          )
          accepted.push({ orderId: answer.orderId, quantity: settings.quantity, token })
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
  async function settle(accepted: { orderId: string; quantity: number; token: string }[]): Promise<{ confirmedUnits: number; failedOrders: number }> {
    let open = accepted.slice()
    let confirmedUnits = 0
    let failedOrders = 0
    while (open.length > 0 && !stopRequested) {
      state.pending = open.length
      const stillOpen: typeof open = []
      for (let i = 0; i < open.length; i += 20) {
        const batch = open.slice(i, i + 20)
        const answers = await Promise.all(batch.map((o) => getOrder(o.orderId, { token: o.token }).catch(() => null)))
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

  async function start(settings: SaleSettings): Promise<void> {
    if (running.value) return
    stopRequested = false
    reset()
    const runId = newIdempotencyKey().slice(0, 8)
    try {
      state.phase = 'signing-in'
      const tokens = await signIn(settings.buyers, runId)
      if (stopRequested) {
        state.phase = 'stopped'
        return
      }
      const startStock = (await getProduct(settings.productId)).stock
      state.startStock = startStock
      state.stock = startStock
      watchStock(settings.productId)
      state.phase = 'firing'
      const accepted = await fire(settings, tokens)
      state.phase = 'settling'
      const { confirmedUnits, failedOrders } = await settle(accepted)
      if (stopRequested) {
        state.phase = 'stopped'
        return
      }
      // Failed orders give their units back to Redis just after MySQL records the failure, so
      // allow the stock a few seconds to converge (I4) before comparing.
      let endStock = (await getProduct(settings.productId)).stock
      for (let waited = 0; startStock - endStock !== confirmedUnits && waited < 6000; waited += MIN_POLL_MS) {
        await sleep(MIN_POLL_MS)
        endStock = (await getProduct(settings.productId)).stock
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
    }
  }

  function stop(): void {
    stopRequested = true
  }

  return { state, running, start, stop }
}
