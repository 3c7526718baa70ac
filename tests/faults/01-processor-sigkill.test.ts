import t from 'tap'
import { sleep } from '@flash/common'
import { component, prepareScenario, uniqueTag, waitReady, PROCESSOR } from './support/stack.ts'
import { postProduct } from './support/catalog.ts'
import { startSale, whenStarted } from './support/load.ts'
import { checkInvariants, describeSale } from './support/invariants.ts'

// Scenario 1: the processor crashes (SIGKILL: no graceful anything) three times in the middle of a
// flash sale and is restarted each time. Batches die between their SQL commit, their Redis finish and
// their offset commit; Kafka redelivers, and the invariants must hold anyway (I2, I3).

t.test('order-processor SIGKILLed three times mid-sale: every 202 final, nothing applied twice, no oversell', async (t) => {
  const clients = await prepareScenario(t, ['order-processor'])
  const tag = uniqueTag('proc-kill')
  const stock = 2000
  const product = await postProduct(`fault ${tag}`, stock)
  const sale = startSale({ tag, products: [product.id], buyers: 2400, ratePerSecond: 45, concurrency: 40 })

  // ~53 s of sale, sold out at ~44 s; a restart takes ~15 s (the consumer rejoins its group), so the
  // three crashes land at ~4 s, ~20 s and ~36 s, all while buyers are still being served.
  for (const at of [200, 700, 1200]) {
    await whenStarted(sale, at)
    t.comment(`${await component('kill', 'order-processor')} after ${sale.progress.started} buyers`)
    await sleep(500)
    t.comment(await component('start', 'order-processor'))
    await waitReady(PROCESSOR)
  }
  const result = await sale.done
  t.comment(describeSale(result))
  t.ok(result.accepted.size > 0, 'the sale accepted orders')
  const report = await checkInvariants(t, clients, { products: [{ id: product.id, putOnSale: stock }], sales: [result] })
  t.comment(`final states ${JSON.stringify(report.finalStates)}, failed ${JSON.stringify(report.failedReasons)}, drained in ${report.drainMs} ms`)
  t.equal(report.finalStates.confirmed ?? 0, Math.min(stock, result.accepted.size), 'every unit on sale was sold (no unit lost to a crash)')
})
