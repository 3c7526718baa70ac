import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { sleep } from '@flash/common'
import { component, prepareScenario, uniqueTag } from './support/stack.ts'
import { postProduct } from './support/catalog.ts'
import { startSale, whenStarted } from './support/load.ts'
import { checkInvariants, describeSale } from './support/invariants.ts'

// Scenario 3: MariaDB is stopped for ~10 s mid-sale. The gateway's hot path does not need it (Redis +
// Kafka), the processor stalls, retries with backoff, and resumes: no message skipped (every 202
// final), none applied twice (stock conservation).

t.test('MariaDB stopped ~10 s mid-sale: the processor stalls and resumes, nothing skipped, nothing twice', async (t) => {
  const clients = await prepareScenario(t, ['mariadb'])
  const tag = uniqueTag('mysql-down')
  const stock = 1500
  const product = await postProduct(`fault ${tag}`, stock)
  const sale = startSale({ tag, products: [product.id], buyers: 2400, ratePerSecond: 150, concurrency: 40, retryDeadlineMs: 60_000 })

  await whenStarted(sale, 300)
  t.comment(await component('stop', 'mariadb'))
  const acceptedAtStop = sale.progress.accepted
  await sleep(10_000)
  t.ok(sale.progress.accepted > acceptedAtStop, `orders kept being accepted while MySQL was down (${sale.progress.accepted - acceptedAtStop})`)
  t.comment(await component('start', 'mariadb'))

  const result = await sale.done
  t.comment(describeSale(result))
  const report = await checkInvariants(t, clients, { products: [{ id: product.id, putOnSale: stock }], sales: [result] })
  t.comment(`final states ${JSON.stringify(report.finalStates)}, failed ${JSON.stringify(report.failedReasons)}, drained in ${report.drainMs} ms`)
  const [rows] = await clients.mysql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM orders WHERE product_id = ?', [product.id])
  t.ok(Number(rows[0]?.n) >= result.accepted.size, 'MySQL holds a row for every accepted order')
})
