import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { waitUntil } from '@flash/common/test-support'
import { component, prepareScenario, uniqueTag, waitReady, PAYMENTS } from './support/stack.ts'
import { postProduct } from './support/catalog.ts'
import { placeGuestOrder, waitForStatus, openPayment, succeededEvent, deliverEvent, type GuestOrder } from './support/payments.ts'

// Scenario 8: payments arrive while Kafka, then MySQL, is down. Every signed event answered 2xx is
// applied later (Kafka down: it is in MySQL, and order.paid follows when Kafka is back); an event that
// could not be stored is answered 503, and the provider's retry applies it once MySQL is back.

t.test('Kafka, then MySQL, down while payments arrive: nothing answered 2xx is lost, nothing applied twice', async (t) => {
  const clients = await prepareScenario(t, ['kafka', 'mariadb'])
  const tag = uniqueTag('payments-down')
  const product = await postProduct(`fault ${tag}`, 10, { price: 1500, paymentWindowSeconds: 600 })
  const orders: GuestOrder[] = []
  for (let i = 0; i < 6; i++) orders.push(await placeGuestOrder(product.id))
  for (const o of orders) await waitForStatus(clients, o.orderId, 'awaiting_payment')
  const payments: Array<{ paymentId: string, amount: number }> = []
  for (const o of orders) payments.push(await openPayment(o))
  const events = payments.map((p, i) => succeededEvent(p.paymentId, p.amount, orders[i]!.orderId))

  t.comment(await component('stop', 'kafka'))
  const duringKafka = await Promise.all(events.slice(0, 3).map(deliverEvent))
  t.same(duringKafka, [200, 200, 200], 'with Kafka down the webhook still stores the events (200)')
  const [stored] = await clients.mysql.query<RowDataPacket[]>('SELECT status, notified_at FROM payments WHERE id IN (?)', [payments.slice(0, 3).map((p) => p.paymentId)])
  t.ok(stored.every((r) => r.status === 'succeeded' && r.notified_at === null), 'succeeded in MySQL, order.paid not yet published')
  t.comment(await component('start', 'kafka'))
  const paidAfterKafka = []
  for (const o of orders.slice(0, 3)) paidAfterKafka.push(await waitForStatus(clients, o.orderId, 'paid', 120_000))
  t.same(paidAfterKafka.map((r) => r.payment_id), payments.slice(0, 3).map((p) => p.paymentId), 'every order paid during the Kafka outage is paid, by its payment, once Kafka is back')

  t.comment(await component('stop', 'mariadb'))
  const duringMysql = await Promise.all(events.slice(3).map(deliverEvent))
  t.ok(duringMysql.every((s) => s === 503), `with MySQL down the webhook answers 503, so the provider retries (${duringMysql.join(', ')})`)
  t.comment(await component('start', 'mariadb'))
  await waitReady(PAYMENTS)
  // Stripe retries with backoff: the same events again, until a 2xx.
  for (const body of events.slice(3)) {
    let status = 0
    for (let attempt = 0; attempt < 30 && status !== 200; attempt++) {
      status = await deliverEvent(body)
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    t.equal(status, 200, 'a retried event is stored once MySQL is back')
  }
  for (const o of orders.slice(3)) await waitForStatus(clients, o.orderId, 'paid', 120_000)
  const redelivered = await Promise.all(events.map(deliverEvent))
  t.same(redelivered, [200, 200, 200, 200, 200, 200], 'redeliveries of every event are answered 200')

  // The payment worker marks each payment paid once it sees its order took it.
  const rows = await waitUntil('every payment is settled', async () => {
    const [found] = await clients.mysql.query<RowDataPacket[]>('SELECT status, COUNT(*) AS n FROM payments WHERE order_id IN (?) GROUP BY status', [orders.map((o) => o.orderId)])
    return found.length === 1 && found[0]?.status === 'paid' ? found : undefined
  }, 30_000).catch(async () => (await clients.mysql.query<RowDataPacket[]>('SELECT status, COUNT(*) AS n FROM payments WHERE order_id IN (?) GROUP BY status', [orders.map((o) => o.orderId)]))[0])
  t.same(rows.map((r) => [r.status, Number(r.n)]), [['paid', 6]], 'six payments, each paid once (none refunded, none twice)')
  const [[stock]] = await clients.mysql.query<RowDataPacket[]>('SELECT stock FROM products WHERE id = ?', [product.id]) as unknown as [RowDataPacket[]]
  t.equal(Number(stock?.stock), 4, 'MySQL stock: the six paid units stay sold')
  t.equal((await clients.store.snapshot(product.id)).available, 4, 'Redis agrees')
})
