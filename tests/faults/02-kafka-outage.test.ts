import t from 'tap'
import { sleep } from '@flash/common'
import { component, prepareScenario, uniqueTag, waitReady, GATEWAY, PROCESSOR } from './support/stack.ts'
import { postProduct } from './support/catalog.ts'
import { startSale, whenStarted } from './support/load.ts'
import { checkInvariants, describeSale } from './support/invariants.ts'

// Scenario 2: the Kafka broker is stopped for ~10 s mid-sale. The gateway cannot get an ack, so it
// must answer 503 and undo the reservation (no units leak into a ledger nobody will apply); buyers who
// retry with the same Idempotency-Key after the broker is back get their order.

const PUBLISH_TIMEOUT_MS = Number(process.env.PUBLISH_TIMEOUT_MS ?? 5000)

t.test('Kafka stopped ~10 s mid-sale: 503 meanwhile, no leaked reservation, retries with the same key succeed', async (t) => {
  const clients = await prepareScenario(t, ['kafka'])
  const tag = uniqueTag('kafka-down')
  const stock = 1200
  const product = await postProduct(`fault ${tag}`, stock)
  const sale = startSale({ tag, products: [product.id], buyers: 1800, ratePerSecond: 120, concurrency: 40, retryDeadlineMs: 90_000 })

  await whenStarted(sale, 300)
  const stoppedAt = Date.now()
  t.comment(`${await component('stop', 'kafka')} in ${Date.now() - stoppedAt} ms`)
  // Long enough for every request caught by the outage to hit its publish timeout and undo.
  await sleep(Math.max(10_000 - (Date.now() - stoppedAt), PUBLISH_TIMEOUT_MS + 3000))
  const during = await clients.store.snapshot(product.id)
  const cutoff = Date.now() - PUBLISH_TIMEOUT_MS - 2000
  // Outlived the publish timeout: either Kafka acknowledged it as the broker went down (then its buyer
  // got a 202 and it waits for the processor, which needs Kafka too), or it leaked. Judged below.
  const outlived = during.ledger.filter((e) => e.reservedAt < cutoff && e.reservedAt > stoppedAt)
  const startAt = Date.now()
  t.comment(`${await component('start', 'kafka')} in ${Date.now() - startAt} ms, ${Date.now() - stoppedAt} ms after the stop began`)

  const result = await sale.done
  t.comment(describeSale(result))
  const leaked = outlived.filter((e) => !result.accepted.has(e.orderId))
  t.same(leaked, [], `no reservation made during the outage outlives the publish timeout unless Kafka acknowledged it (${outlived.length - leaked.length} acknowledged)`)
  const saw503 = result.purchases.filter((p) => p.attempts.some((a) => a.status === 503))
  t.ok(saw503.length > 0, `buyers were answered 503 while Kafka was down (${saw503.length})`)
  const retriedOk = saw503.filter((p) => p.outcome === 'accepted' || p.code === 'INSUFFICIENT_STOCK')
  t.equal(retriedOk.length, saw503.length, 'every buyer answered 503 got a definitive answer after retrying with the same key')
  t.equal(result.purchases.filter((p) => p.outcome === 'gave-up').length, 0, 'no buyer gave up')
  const report = await checkInvariants(t, clients, { products: [{ id: product.id, putOnSale: stock }], sales: [result] })
  // The consumer's own restart after the outage must show in readiness: a load balancer or an
  // orchestrator would otherwise keep a working processor out of service.
  await t.resolves(waitReady(PROCESSOR, 30_000), 'the processor reports ready again once Kafka is back')
  await t.resolves(waitReady(GATEWAY, 30_000), 'the gateway reports ready again once Kafka is back')
  t.comment(`final states ${JSON.stringify(report.finalStates)}, failed ${JSON.stringify(report.failedReasons)}, drained in ${report.drainMs} ms`)
})
