// Buying from the shop's grid and from a product's own page: one click, one order (an
// Idempotency-Key per click), its news at the button, a toast only when the button is out of sight,
// and the buyer's remaining per-buyer limit known before the click: from this browser's orders, the
// signed-in buyer's orders on the server, and what a PER_USER_LIMIT refusal said.
import { computed, onBeforeUnmount, reactive, watch } from 'vue'
import { ApiError, listOrders, newIdempotencyKey, placeOrderWithRetry, serverNow, type Product } from '../api.ts'
import { errorMessage, reasonText, t } from '../i18n.ts'
import { buyer, rememberReceipt } from '../session.ts'
import { showToast } from '../toast.ts'
import { onFate, useOrderTracker, type TrackedOrder } from './useOrderTracker.ts'
import { formatCountdown } from './useServerClock.ts'

/** @param shown the products on the page: their per-buyer limits are looked up for a signed-in buyer */
export function usePurchase(shown: () => Product[]) {
  const busy = reactive(new Set<number>())
  const { orders, track } = useOrderTracker()
  /** units the buyer holds by the server's list of their orders (signed in only) */
  const heldOnServer = reactive(new Map<string, number>())

  /** units the server said this buyer already holds beyond what this tab ordered (PER_USER_LIMIT's `remaining`) */
  const heldElsewhere = reactive(new Map<string, number>())

  /** The buyer's latest order of each product in this tab: shown at that product's button. */
  const latestOutcome = computed(() => {
    const latest = new Map<number, TrackedOrder>()
    for (const order of orders) if (!latest.has(order.productId)) latest.set(order.productId, order)
    return latest
  })

  const COUNTS_TOWARD_LIMIT = new Set(['pending', 'awaiting_payment', 'paid', 'confirmed'])

  /** Units this browser's orders hold for the buyer (held, paid or confirmed: expired and withdrawn ones stop counting). */
  function heldHere(productId: number, who: string): number {
    let held = 0
    for (const order of orders) {
      if (order.productId === productId && order.userId === who && COUNTS_TOWARD_LIMIT.has(order.status)) held += order.quantity
    }
    return held
  }

  /** Units the buyer may still buy under a per-user limit (null: the product has none). */
  function remainingFor(product: Product): number | null {
    if (product.perUserLimit === null) return null
    const who = buyer.value?.id ?? ''
    const key = `${who}:${product.id}`
    const held = Math.max(heldHere(product.id, who) + (heldElsewhere.get(key) ?? 0), heldOnServer.get(key) ?? 0)
    return Math.max(0, product.perUserLimit - held)
  }

  /**
   * Whether the product's buy button is on screen: its outcome is then shown right there, and a toast
   * would only cover the next row's buttons on a phone.
   */
  function buttonInView(productId: number): boolean {
    const button = document.querySelector(`[data-test="product-card"][data-product-id="${productId}"] [data-test="buy"]`)
    if (button === null) return false
    const box = button.getBoundingClientRect()
    return box.bottom > 0 && box.top < window.innerHeight
  }

  function fateText(order: TrackedOrder): string {
    const params = { qty: order.quantity, name: order.productName }
    switch (order.status) {
      case 'awaiting_payment': return t('outcome.awaiting', { ...params, time: payWithin(order.payBy) })
      case 'paid': return t('outcome.paid', params)
      case 'confirmed': return t('outcome.confirmed', params)
      case 'expired': return t('outcome.expired', params)
      case 'cancelled': return t('outcome.cancelled', params)
      default: return t('outcome.failed', { ...params, reason: reasonText(order.reason ?? '') })
    }
  }

  /** The hold's length as a countdown text, at the moment the toast is shown. */
  function payWithin(payBy: string | null | undefined): string {
    return payBy ? formatCountdown(Date.parse(payBy) - serverNow(), (n) => t('sale.days', { n })) : ''
  }

  // A toast for an order's news only when its card is out of sight (scrolled away, another page).
  const stopFate = onFate((order) => {
    if (order.status === 'pending' || buttonInView(order.productId)) return
    const kind = order.status === 'paid' || order.status === 'confirmed' ? 'ok' : order.status === 'awaiting_payment' ? 'info' : 'error'
    const text = fateText(order)
    showToast(kind, () => text)
  })
  onBeforeUnmount(stopFate)

  async function buy(product: Product, quantity: number): Promise<void> {
    if (busy.has(product.id)) return
    busy.add(product.id)
    // One key per click. The button stays disabled until the answer, and retries of this click
    // reuse the key, so neither a double click nor a retry can buy twice.
    const key = newIdempotencyKey()
    // Per-user limits count the signed-in buyer's orders ('' for a guest).
    const who = buyer.value?.id ?? ''
    const base = { productId: product.id, productName: product.name, quantity, userId: who, at: new Date().toISOString() }
    try {
      // The buyer is the session (cookies); signed out, this is a guest order, followed by its receipt.
      const accepted = await placeOrderWithRetry({ productId: product.id, quantity }, key)
      if (accepted.receipt !== undefined) rememberReceipt(accepted.orderId, accepted.receipt)
      track({ ...base, orderId: accepted.orderId, status: 'pending', reason: null })
    } catch (err) {
      if (err instanceof ApiError && err.code === 'INSUFFICIENT_STOCK') {
        // Show sold out at once instead of waiting for the next stock poll.
        product.stock = err.available ?? 0
      }
      if (err instanceof ApiError && err.code === 'PER_USER_LIMIT' && typeof err.details.remaining === 'number' && product.perUserLimit !== null) {
        // The server knows orders this tab never saw (another device, an earlier visit): cap the picker by them.
        heldElsewhere.set(`${who}:${product.id}`, Math.max(0, product.perUserLimit - err.details.remaining - heldHere(product.id, who)))
      }
      track({ ...base, orderId: null, status: 'rejected', reason: null, error: err })
      if (!buttonInView(product.id)) showToast('error', () => t('outcome.rejected', { name: product.name, reason: errorMessage(err) }))
    } finally {
      busy.delete(product.id)
    }
  }

  // A signed-in buyer's earlier orders (another device, an earlier visit) count toward a limit before
  // the click: one read of their orders per limited product shown, again when one of them settles.
  async function lookUpHeld(product: Product): Promise<void> {
    const who = buyer.value?.id
    if (who === undefined || product.perUserLimit === null) return
    try {
      const page = await listOrders({ productId: product.id, pageSize: 100 })
      const units = page.items.filter((o) => COUNTS_TOWARD_LIMIT.has(o.status)).reduce((sum, o) => sum + o.quantity, 0)
      heldOnServer.set(`${who}:${product.id}`, units)
    } catch {
      // the limit is still enforced by the gateway; the hint just stays as it was
    }
  }
  const limitedIds = computed(() => shown().filter((p) => p.perUserLimit !== null).map((p) => p.id).join(','))
  watch([limitedIds, () => buyer.value?.id], () => {
    for (const product of shown()) if (!heldOnServer.has(`${buyer.value?.id ?? ''}:${product.id}`)) void lookUpHeld(product)
  }, { immediate: true })
  const stopRecount = onFate((order) => {
    const product = shown().find((p) => p.id === order.productId)
    if (product !== undefined && order.status !== 'pending') void lookUpHeld(product)
  })
  onBeforeUnmount(stopRecount)

  return { busy, orders, latestOutcome, remainingFor, buy }
}
