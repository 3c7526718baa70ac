import t from 'tap'
import { ErrorCode, sleep } from '@flash/common'
import { createProduct, testStack, waitUntil } from '@flash/common/test-support'
import { createTestTopic, testConfig, buildTestApp, post } from './helper.ts'

// Overload (docs/ARCHITECTURE.md §5): when the event loop falls behind, new orders are answered 503 +
// Retry-After at once instead of queueing for seconds; health and metrics keep answering, nothing is
// reserved for a shed request, and orders are taken again as soon as the loop catches up.

const stack = testStack(t)
const topic = await createTestTopic(t)

/** A saturated gateway in miniature: every turn of the event loop takes `ms` until stopped. */
function saturate (ms: number): () => void {
  const hog = setInterval(() => {
    const until = performance.now() + ms
    while (performance.now() < until) { /* busy */ }
  }, 1)
  return () => clearInterval(hog)
}

t.test('a saturated gateway sheds orders with 503 + Retry-After and recovers', async (t) => {
  const app = await buildTestApp(t, testConfig(topic, { OVERLOAD_EVENT_LOOP_DELAY_MS: '50' }))
  const product = await createProduct(stack, { stock: 100 })
  // A gateway that has just started may still read its own start-up work (compiling schemas, connecting)
  // as loop delay for one sample interval: it takes orders once that sample has passed.
  const taken = async (): Promise<true | undefined> =>
    (await post(app, { productId: product.id, quantity: 1 })).statusCode === 202 || undefined
  t.ok(await waitUntil('an idle gateway takes orders', taken, 3000, 50), 'an idle gateway takes orders')

  const stop = saturate(80)
  const answers = []
  const health = []
  try {
    await sleep(300)
    for (let i = 0; i < 10; i++) {
      answers.push(await post(app, { productId: product.id, quantity: 1 }))
      health.push((await app.inject('/health/live')).statusCode)
    }
  } finally {
    stop()
  }
  const shed = answers.filter((a) => a.statusCode === 503)
  t.ok(shed.length >= 1, `orders while the loop is saturated are shed (${shed.length} of ${answers.length})`)
  t.ok(shed.every((a) => a.json().code === ErrorCode.SERVICE_UNAVAILABLE && a.headers['retry-after'] === '1'), '503 SERVICE_UNAVAILABLE with Retry-After: 1')
  t.same(new Set(health), new Set([200]), 'liveness answers throughout: only orders are shed')
  const accepted = answers.filter((a) => a.statusCode === 202).length

  t.ok(await waitUntil('orders are taken again once the loop caught up', taken, 3000, 50), 'orders are taken again once the loop caught up')
  t.equal((await stack.store.snapshot(product.id)).available, 100 - 2 - accepted, 'a shed order reserved nothing')
})
