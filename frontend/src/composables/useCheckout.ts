import { onBeforeUnmount, onMounted, reactive } from 'vue'
import {
  confirmSandboxPayment, getOrder, getPayment, paymentConfig, serverNow, startPayment,
  type Order, type OrderAccess, type Payment, type PaymentConfig,
} from '../api.ts'
import { SETTLED, canPay, checkoutPhase } from '../checkout.ts'

export interface CheckoutApi {
  getOrder: (orderId: string, access: OrderAccess) => Promise<Order>
  getPayment: (paymentId: string, access: OrderAccess) => Promise<Payment>
  startPayment: (orderId: string, access: OrderAccess) => Promise<Payment>
  confirmSandboxPayment: (paymentId: string, paymentMethod: string, access: OrderAccess) => Promise<unknown>
  paymentConfig: () => Promise<PaymentConfig>
  /** the servers' clock (ms): the hold ends by it, not by this device's */
  now: () => number
  /** how long between two reads (CHECKOUT_POLL_MS) */
  pollMs?: number
}

const liveApi: CheckoutApi = { getOrder, getPayment, startPayment, confirmSandboxPayment, paymentConfig: () => paymentConfig(), now: serverNow }

// The provider's answer arrives within a second or two; once a second is what the contract asks.
export const CHECKOUT_POLL_MS = 1000

/**
 * One order's checkout: reads the order (and, while a card is being charged, its payment) once a
 * second until nothing can change any more, and pays with a sandbox test card. A declined card may
 * be tried again while the hold lasts. Free of lifecycle hooks so it runs in a unit test; see
 * useCheckout for the component's version.
 */
export function createCheckout(orderId: string, access: OrderAccess, api: CheckoutApi = liveApi) {
  const state = reactive({
    order: null as Order | null,
    payment: null as Payment | null,
    config: null as PaymentConfig | null,
    /** a failed request (shown translated); the polling goes on */
    error: null as unknown,
    /** a pay click is between its first request and the 202 */
    paying: false,
  })
  let stopped = false
  let looping = false
  let wake: (() => void) | undefined

  const phase = () => checkoutPhase(state.order, state.payment, api.now())

  async function refresh(): Promise<void> {
    try {
      const order = await api.getOrder(orderId, access)
      state.order = order
      const open = state.payment
      if (open !== null && (open.status === 'processing' || open.status === 'succeeded' || open.status === 'paid')) {
        // The order shows the outcome once applied; the payment says "declined" first.
        state.payment = await api.getPayment(open.paymentId, access)
      }
      state.error = null
    } catch (err) {
      state.error = err
    }
  }

  /** One loop at a time, however often it is asked for; it ends when the order is settled. */
  async function loop(): Promise<void> {
    if (looping) return
    looping = true
    try {
      while (!stopped) {
        await refresh()
        if (stopped || SETTLED.has(phase())) break
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, api.pollMs ?? CHECKOUT_POLL_MS)
          wake = () => { clearTimeout(timer); resolve() }
        })
        wake = undefined
      }
    } finally {
      looping = false
    }
  }

  async function start(): Promise<void> {
    stopped = false
    // The test cards are a nicety of sandbox mode: without them the page still shows the hold.
    api.paymentConfig().then((config) => { state.config = config }, () => {})
    await loop()
  }

  function stop(): void {
    stopped = true
    wake?.()
  }

  /** Pays with a test card (sandbox); the outcome arrives by polling. */
  async function pay(paymentMethod: string): Promise<void> {
    if (state.paying || !canPay(phase())) return
    state.paying = true
    state.error = null
    try {
      const payment = await api.startPayment(orderId, access)
      await api.confirmSandboxPayment(payment.paymentId, paymentMethod, access)
      state.payment = { ...payment, status: 'processing' }
      if (!stopped) void loop()
    } catch (err) {
      // ORDER_NOT_PAYABLE: the hold ended meanwhile; the order's own state says how.
      await refresh()
      state.error = err
    } finally {
      state.paying = false
    }
  }

  return { state, phase, start, stop, pay, refresh }
}

/** createCheckout, started while the component is mounted. */
export function useCheckout(orderId: string, access: OrderAccess) {
  const checkout = createCheckout(orderId, access)
  onMounted(() => { void checkout.start() })
  onBeforeUnmount(checkout.stop)
  return checkout
}
