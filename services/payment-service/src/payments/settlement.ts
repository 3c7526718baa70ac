import type { Logger } from 'pino'
import type { PaymentProvider } from '../provider/provider.ts'
import type { PaymentRepository, Unsettled } from './repository.ts'
import type { PaidNotifier } from './notifier.ts'
import type { PaymentMetrics } from '../metrics.ts'

// The payment worker (docs/ARCHITECTURE.md §8), every PAYMENT_SETTLE_INTERVAL_MS on each instance:
//   1. succeeded payments not yet announced → `order.paid` (the webhook's own publish failed: outbox)
//   2. succeeded payments whose order took them (paid by this payment) → `paid`
//   3. succeeded payments whose order could not (expired, withdrawn, failed, paid by another) and paid
//      payments whose order was withdrawn → refunded, once: `refund_pending` is written before the
//      provider is asked, and the provider's idempotency key makes a repeated ask the same refund.
// Everything is in MySQL, so a restart anywhere resumes where it stopped.

export interface SettlementOptions {
  repository: PaymentRepository
  provider: PaymentProvider
  notifier: PaidNotifier
  intervalMs: number
  log: Logger
  metrics?: PaymentMetrics
}

export interface SettleOutcome { notified: number, paid: number, refunded: number }

const refundReason = (row: Unsettled): string => {
  switch (row.orderStatus) {
    case 'expired': return 'the order expired before the payment arrived'
    case 'cancelled': return 'the order was withdrawn'
    case 'paid': return 'the order was already paid by another payment'
    default: return `the order is ${row.orderStatus}`
  }
}

export class Settlement {
  readonly #o: SettlementOptions
  #timer: NodeJS.Timeout | undefined
  #running: Promise<unknown> | undefined
  #stopped = false

  constructor (options: SettlementOptions) {
    this.#o = options
  }

  start (): void { this.#schedule() }

  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  #schedule (): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#running = this.settle()
        .catch((err: unknown) => this.#o.log.warn({ err }, 'payment settlement failed; retrying'))
        .finally(() => { this.#running = undefined; this.#schedule() })
    }, this.#o.intervalMs)
  }

  async settle (): Promise<SettleOutcome> {
    const repo = this.#o.repository
    const rows = await repo.unsettled(500)
    const outcome: SettleOutcome = { notified: 0, paid: 0, refunded: 0 }
    const unannounced = rows.filter((r) => r.status === 'succeeded' && !r.notified)
    if (unannounced.length > 0) {
      await this.#o.notifier.send(unannounced.map((r) => ({ paymentId: r.id, orderId: r.orderId, productId: r.productId, amount: r.amount, currency: r.currency })),
        `settle-${Date.now()}`)
      await repo.markNotified(unannounced.map((r) => r.id))
      outcome.notified = unannounced.length
    }
    for (const row of rows) {
      if (row.status === 'succeeded' && !row.notified) continue
      if (row.status === 'succeeded' && row.orderStatus === 'awaiting_payment') continue // the processor has not applied it yet
      if (row.status === 'succeeded' && row.orderStatus === 'paid' && row.orderPaymentId === row.id) {
        if (await repo.transition(row.id, ['succeeded'], 'paid')) outcome.paid++
        continue
      }
      if (row.status === 'refund_pending' && row.refundId !== null) continue // the provider's refund event finishes it
      if (await this.#refund(row)) outcome.refunded++
    }
    if (outcome.notified + outcome.paid + outcome.refunded > 0) {
      this.#o.log.info(outcome, 'payments settled')
      for (const result of ['notified', 'paid', 'refunded'] as const) if (outcome[result] > 0) this.#o.metrics?.settled.inc({ result }, outcome[result])
    }
    return outcome
  }

  async #refund (row: Unsettled): Promise<boolean> {
    const repo = this.#o.repository
    if (row.status !== 'refund_pending' && !await repo.transition(row.id, [row.status], 'refund_pending', { reason: refundReason(row) })) return false
    const refund = await this.#o.provider.refund(row.id, `refund-${row.id}`)
    if (refund.done) return await repo.transition(row.id, ['refund_pending'], 'refunded', { refundId: refund.refundId })
    await repo.transition(row.id, ['refund_pending'], 'refund_pending', { refundId: refund.refundId })
    return false
  }
}
