import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { AppError, ErrorCode } from '@flash/common'
import { WebhookSignatureError, type PaymentProvider } from '../provider/provider.ts'
import type { PaymentRepository } from './repository.ts'
import type { PaidNotifier } from './notifier.ts'
import type { PaymentMetrics } from '../metrics.ts'

// The provider's events, applied once each (docs/ARCHITECTURE.md §8). The answer is 2xx only after
// the event and its effect are committed in MySQL: the provider retries anything else, so a signed
// event that got a 2xx is never lost, and one that did not comes again.

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored' | 'flagged'

export interface WebhookOptions {
  repository: PaymentRepository
  provider: PaymentProvider
  notifier: PaidNotifier
  log: Logger
  metrics?: PaymentMetrics
}

export const invalidSignature = (why: string): AppError =>
  new AppError(400, ErrorCode.WEBHOOK_SIGNATURE_INVALID, `webhook refused: ${why}`)

export class WebhookEvents {
  readonly #o: WebhookOptions

  constructor (options: WebhookOptions) {
    this.#o = options
  }

  async receive (body: Buffer, signature: string | undefined, requestId: string): Promise<WebhookOutcome> {
    try {
      const outcome = await this.#receive(body, signature, requestId)
      this.#o.metrics?.webhookEvents.inc({ outcome })
      return outcome
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 400) this.#o.metrics?.webhookEvents.inc({ outcome: 'refused' })
      throw error
    }
  }

  async #receive (body: Buffer, signature: string | undefined, requestId: string): Promise<WebhookOutcome> {
    let event
    try {
      event = this.#o.provider.verify(body, signature)
    } catch (error) {
      if (error instanceof WebhookSignatureError) throw invalidSignature(error.message)
      throw error
    }
    const repo = this.#o.repository
    const payloadHash = createHash('sha256').update(body).digest('hex')
    let notice: { paymentId: string, orderId: string, amount: number, currency: string } | null = null
    const conn = await repo.pool.getConnection()
    let outcome: WebhookOutcome = 'ignored'
    try {
      await conn.beginTransaction()
      const recorded = await repo.recordEvent(conn, { id: event.id, type: event.providerType, paymentId: event.paymentId, payloadHash })
      if (recorded === 'conflict') throw invalidSignature(`event ${event.id} was already received with another body`)
      if (recorded === 'duplicate') {
        await conn.rollback()
        return 'duplicate'
      }
      const payment = event.paymentId === null ? null : await repo.find(event.paymentId, conn, true)
      if (payment !== null && event.kind === 'succeeded') {
        if (event.amount !== payment.amount || event.currency !== payment.currency) {
          // Never applied: a payment that is not the order's amount cannot pay for it.
          const reason = `provider reported ${event.amount ?? '?'} ${event.currency ?? '?'}, the order is ${payment.amount} ${payment.currency}`
          if (await repo.transition(payment.id, ['requires_payment', 'processing', 'declined'], 'flagged', { reason }, conn)) outcome = 'flagged'
          this.#o.log.warn({ paymentId: payment.id, orderId: payment.orderId, reason }, 'payment flagged')
        } else if (await repo.transition(payment.id, ['requires_payment', 'processing', 'declined'], 'succeeded', { reason: null }, conn)) {
          notice = { paymentId: payment.id, orderId: payment.orderId, amount: payment.amount, currency: payment.currency }
          outcome = 'applied'
        }
      } else if (payment !== null && event.kind === 'failed') {
        // Out of order (failed after succeeded): a succeeded payment stays succeeded.
        if (await repo.transition(payment.id, ['requires_payment', 'processing'], 'declined', { reason: event.failure ?? 'declined' }, conn)) outcome = 'applied'
      } else if (payment !== null && event.kind === 'refunded') {
        if (await repo.transition(payment.id, ['refund_pending'], 'refunded', {}, conn)) outcome = 'applied'
      }
      await conn.commit()
    } catch (error) {
      await conn.rollback().catch(() => {})
      throw error
    } finally {
      conn.release()
    }
    if (notice !== null) {
      // Committed first: if Kafka is down the payment stays un-notified and the worker publishes it.
      const order = await repo.order(notice.orderId).catch(() => null)
      if (order !== null) {
        await this.#o.notifier.send([{ ...notice, productId: order.productId }], requestId)
          .then(() => repo.markNotified([notice.paymentId]))
          .catch((err: unknown) => this.#o.log.warn({ err, paymentId: notice.paymentId }, 'order.paid not published yet; the worker retries'))
      }
    }
    return outcome
  }
}
