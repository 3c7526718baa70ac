import t from 'tap'
import { sleep } from '@flash/common'
import { prepareScenario, uniqueTag } from './support/stack.ts'
import { postProduct, restock, syncStock } from './support/catalog.ts'
import { startSale } from './support/load.ts'
import { checkInvariants, describeSale } from './support/invariants.ts'

// Scenario 6: `sync:stock` (the catalog's POST /admin/stock/sync, what the script calls) and restocks
// run in a loop during the sale. The seed's sync overwrote Redis with MySQL stock and oversold; ours
// computes MySQL − pending and refuses while a change is in flight. Units sold never exceed units put
// on sale, and every restocked unit is sellable.

t.test('sync:stock and restock in a loop during a sale never oversell', async (t) => {
  const clients = await prepareScenario(t, [])
  const tag = uniqueTag('sync-loop')
  const initial = 800
  const product = await postProduct(`fault ${tag}`, initial)
  const sale = startSale({ tag, products: [product.id], buyers: 2400, ratePerSecond: 300, concurrency: 40 })

  let restocked = 0
  let syncs = 0
  const outcomes: Record<string, number> = {}
  let running = true
  const done = sale.done.finally(() => { running = false })
  const syncLoop = (async () => {
    while (running) {
      for (const row of await syncStock([product.id])) outcomes[row.outcome] = (outcomes[row.outcome] ?? 0) + 1
      syncs++
      await sleep(100)
    }
  })()
  const restockLoop = (async () => {
    while (running) {
      const res = await restock(product.id, 7)
      if (res.status >= 200 && res.status < 300) restocked += 7
      else t.fail(`restock answered ${res.status}`, { body: res.body })
      await sleep(250)
    }
  })()
  const result = await done
  await Promise.all([syncLoop, restockLoop])
  t.comment(describeSale(result))
  t.comment(`${syncs} syncs ${JSON.stringify(outcomes)}, ${restocked} units restocked`)
  t.ok(syncs > 10 && restocked > 0, 'sync and restock really ran during the sale')
  const putOnSale = initial + restocked
  const report = await checkInvariants(t, clients, { products: [{ id: product.id, putOnSale }], sales: [result] })
  t.comment(`final states ${JSON.stringify(report.finalStates)}, failed ${JSON.stringify(report.failedReasons)}`)
  t.equal(report.finalStates.failed ?? 0, 0, 'no accepted order failed: Redis never promised a unit MySQL did not have')
})
