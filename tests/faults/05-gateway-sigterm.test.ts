import t from 'tap'
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { childPath, component, prepareScenario, ROOT, uniqueTag, waitReady, GATEWAY } from './support/stack.ts'
import { postProduct } from './support/catalog.ts'
import { startSale, whenStarted } from './support/load.ts'
import { checkInvariants, describeSale } from './support/invariants.ts'
import { benchAuthSecret } from '../../bench/buyers.ts'

// Scenario 5: the stack's gateway (:3002) gets SIGTERM in the middle of the load while a second gateway
// ten ports above it (:3012) keeps serving. Graceful shutdown: in-flight requests finish, the producer flushes, nothing is
// left half done (no reservation without its order, no 202 without its message).

const SECOND_PORT = Number(new URL(GATEWAY).port) + 10
const SECOND = `http://127.0.0.1:${SECOND_PORT}`

t.test('order-gateway SIGTERMed mid-load: in-flight requests finish, nothing half done, the second gateway serves', async (t) => {
  const clients = await prepareScenario(t, ['order-gateway'])
  const second = spawn(process.execPath, [resolve(ROOT, 'services/order-gateway/src/server.ts')], {
    cwd: ROOT,
    // The stack's signing secret (what `make local` gives its gateway), so both verify the same buyers.
    env: { ...process.env, PATH: childPath(), GATEWAY_PORT: String(SECOND_PORT), GATEWAY_HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUTH_JWT_SECRET: benchAuthSecret() },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const secondExited = new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)))
  t.teardown(async () => {
    // Only the process this test started, by its own handle.
    if (second.exitCode === null) second.kill('SIGTERM')
    await secondExited
  })
  await waitReady(SECOND, 60_000)

  const tag = uniqueTag('gateway-term')
  const stock = 1500
  const product = await postProduct(`fault ${tag}`, stock)
  const sale = startSale({ tag, products: [product.id], buyers: 2400, ratePerSecond: 300, concurrency: 40, targets: [GATEWAY, SECOND] })
  await whenStarted(sale, 600)
  const stoppedAt = Date.now()
  t.comment(await component('stop', 'order-gateway'))
  t.comment(`gateway ${GATEWAY} exited ${Date.now() - stoppedAt} ms after SIGTERM`)

  const result = await sale.done
  t.comment(describeSale(result))
  const onFirst = result.purchases.flatMap((p) => p.attempts.filter((a) => a.target === GATEWAY))
  const refused = onFirst.filter((a) => a.status === 'network' && /ECONNREFUSED/.test(a.error ?? ''))
  const cut = onFirst.filter((a) => a.status === 'network' && !/ECONNREFUSED/.test(a.error ?? ''))
  t.comment(`${GATEWAY} answered ${onFirst.length - refused.length - cut.length} requests, refused ${refused.length} connections after closing, ${cut.length} cut mid-request`)
  if (cut.length > 0) t.comment(`cut requests: ${JSON.stringify(cut.slice(0, 3))}`)
  t.ok(result.purchases.filter((p) => p.attempts.some((a) => a.target === SECOND && a.status === 202)).length > 0, 'the second gateway accepted orders')
  t.equal(result.purchases.filter((p) => p.outcome === 'gave-up').length, 0, 'every buyer got a definitive answer')
  // Nothing half done: every 202 final, no reservation left in the ledger, Redis == MySQL.
  const report = await checkInvariants(t, clients, { products: [{ id: product.id, putOnSale: stock }], sales: [result] })
  t.comment(`final states ${JSON.stringify(report.finalStates)}, failed ${JSON.stringify(report.failedReasons)}`)
  t.equal(report.finalStates.confirmed ?? 0, stock, 'every unit sold exactly once, through either gateway')
  t.comment(await component('start', 'order-gateway'))
})
