import t from 'tap'
import { ErrorCode, sleep } from '@flash/common'
import { createProduct, testStack } from '@flash/common/test-support'
import { createTestTopic, testConfig, buildTestApp, TopicReader, post, asBuyer } from './helper.ts'
import { redisNow, setWindow } from './support/sale-window.ts'

// A sale opens while 2,000 buyers are already sending orders. Exactly its units are sold,
// none before the start by Redis's clock (each ledger entry carries the Redis TIME of its
// reservation), and every buyer gets an answer that says which side of the start it fell on.

const stack = testStack(t)
const topic = await createTestTopic(t)

const BUYERS = 2000
const UNITS = 50
/** each buyer's first order goes out at a random moment of this span before the start */
const ARRIVAL_MS = 1000
/** a buyer told "not started" tries again after this long (plus jitter), like an impatient shopper */
const RETRY_MS = 100

t.test(`a sale opening under ${BUYERS} buyers already sending orders sells exactly ${UNITS} units, none before the start`, async (t) => {
  const app = await buildTestApp(t, testConfig(topic))
  const reader = await new TopicReader(topic).start(t)
  const product = await createProduct(stack, { stock: UNITS })
  // This process's clock may differ from Redis's: schedule by Redis's, corrected once.
  const offset = await redisNow(stack.redis, product.id) - Date.now()
  const startsAt = Date.now() + offset + ARRIVAL_MS + 3000
  await setWindow(stack, product.id, { startsAt, endsAt: null })
  // One order first, so the buyers do not wait behind the cluster client's first connection to the shard.
  const warmUp = await post(app, { productId: product.id, quantity: 1 }, asBuyer('opening-warm-up'))
  t.equal(warmUp.json().code, ErrorCode.SALE_NOT_STARTED)
  const startsAtLocal = startsAt - offset
  let notStartedAnswers = 0

  const buyer = async (i: number) => {
    await sleep(startsAtLocal - ARRIVAL_MS - 1000 - Date.now() + Math.random() * ARRIVAL_MS)
    for (;;) {
      const res = await post(app, { productId: product.id, quantity: 1 }, asBuyer(`opening-${i}`))
      const body = res.json() as { code?: string, orderId?: string }
      if (body.code !== ErrorCode.SALE_NOT_STARTED) return { status: res.statusCode, code: body.code, orderId: body.orderId }
      notStartedAnswers++
      await sleep(RETRY_MS + Math.random() * RETRY_MS)
    }
  }
  const answers = await Promise.all(Array.from({ length: BUYERS }, (_, i) => buyer(i)))

  const accepted = answers.filter((a) => a.status === 202)
  const soldOut = answers.filter((a) => a.code === ErrorCode.INSUFFICIENT_STOCK)
  t.equal(accepted.length, UNITS, `exactly ${UNITS} × 202`)
  t.equal(soldOut.length, BUYERS - UNITS, 'every other buyer was told "sold out" in the end')
  t.ok(notStartedAnswers > 0, `${notStartedAnswers} answers "not started" while the buyers waited`)

  const snap = await stack.store.snapshot(product.id)
  t.equal(snap.available, 0, 'Redis stock 0')
  t.equal(snap.ledger.length, UNITS, `${UNITS} reservations`)
  t.same(new Set(snap.ledger.map((e) => e.orderId)), new Set(accepted.map((a) => a.orderId)), 'the ledger holds exactly the accepted orders')
  const earliest = Math.min(...snap.ledger.map((e) => e.reservedAt))
  t.ok(earliest >= startsAt, `first reservation at Redis time ${earliest}, ${earliest - startsAt} ms after the start ${startsAt}`)

  const published = await reader.waitFor((r) => r.message.productId === product.id, UNITS)
  t.equal(published.length, UNITS, `${UNITS} messages in Kafka`)
})
