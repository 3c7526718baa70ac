import t from 'tap'
import { sleep } from '@flash/common'
import { component, prepareScenario, uniqueTag } from './support/stack.ts'
import { postProduct } from './support/catalog.ts'
import { placeGuestOrder, waitForStatus, orderStatus, redisAvailable } from './support/payments.ts'

// Scenario 9: the processor (the expiry's only owner) is killed before its holds' deadline and comes
// back well after it. Nothing expires while it is gone; its first scan expires every overdue hold, and
// each returns its units once, so the next buyers get them.

t.test('the processor killed across the payment deadline: every hold expires once it is back, units back once', async (t) => {
  const clients = await prepareScenario(t, ['order-processor'])
  const tag = uniqueTag('expiry-restart')
  const product = await postProduct(`fault ${tag}`, 3, { price: 800, paymentWindowSeconds: 5 })
  const orders = await Promise.all([1, 2, 3].map(async () => await placeGuestOrder(product.id)))
  const rows = []
  for (const o of orders) rows.push(await waitForStatus(clients, o.orderId, 'awaiting_payment'))
  t.equal((await clients.store.snapshot(product.id)).available, 0, 'sold out while held')

  t.comment(await component('kill', 'order-processor'))
  const lastDeadline = Math.max(...rows.map((r) => (r.pay_by as Date).getTime()))
  await sleep(Math.max(0, lastDeadline + 3000 - Date.now()))
  const waiting = await Promise.all(orders.map((o) => orderStatus(clients, o.orderId)))
  t.ok(waiting.every((r) => r?.status === 'awaiting_payment'), 'nothing expired while no processor ran')

  const restarted = Date.now()
  t.comment(await component('start', 'order-processor'))
  for (const o of orders) await waitForStatus(clients, o.orderId, 'expired', 60_000)
  t.comment(`every hold expired ${Date.now() - restarted} ms after the restart began`)
  t.equal(await redisAvailable(clients, product.id, 3), 3, 'Redis: the three units are back on sale, once')
  const [[row]] = await clients.mysql.query('SELECT stock FROM products WHERE id = ?', [product.id]) as unknown as [Array<{ stock: number }>]
  t.equal(Number(row?.stock), 3, 'MySQL too')
  const next = await placeGuestOrder(product.id, 3)
  t.equal((await waitForStatus(clients, next.orderId, 'awaiting_payment')).quantity, 3, 'the next buyer holds them')
})
