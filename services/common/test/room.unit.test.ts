import t from 'tap'
import { randomBytes } from 'node:crypto'
import { preStartScore, admissionWindow, estimateWaitSeconds, pollAfterMs, type PollPlace } from '../src/room/decisions.ts'
import { createRoomPasses } from '../src/room/pass.ts'

t.test('pre-start scores are uniform in [0, 1), below every post-start score (1 + arrival)', async (t) => {
  const scores = Array.from({ length: 20_000 }, () => preStartScore(randomBytes(8)))
  t.ok(scores.every((s) => s >= 0 && s < 1), 'every draw is in [0, 1)')
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length
  t.ok(Math.abs(mean - 0.5) < 0.01, `the mean is 1/2 (${mean.toFixed(4)})`)
  const deciles = new Array<number>(10).fill(0)
  for (const s of scores) deciles[Math.floor(s * 10)]!++
  t.ok(deciles.every((n) => Math.abs(n - 2000) < 200), `every decile holds about a tenth: ${deciles.join(',')}`)
  t.equal(preStartScore(Buffer.alloc(8, 0xff)) < 1, true, 'the largest draw is still below 1')
  t.equal(preStartScore(Buffer.alloc(8, 0)), 0, 'the smallest is 0')
})

t.test('the admission window follows the passes used per second, never below the minimum', async (t) => {
  t.equal(admissionWindow(0, 10, 20), 20, 'nothing measured: the minimum')
  t.equal(admissionWindow(Number.NaN, 10, 20), 20, 'a broken measurement: the minimum')
  t.equal(admissionWindow(1.5, 10, 20), 20, 'a slow pace: the minimum')
  t.equal(admissionWindow(100, 10, 20), 1000, '100 used per second over 10 s: 1,000 outstanding')
  t.equal(admissionWindow(2.01, 10, 5), 21, 'rounded up')
})

t.test('the wait estimate is the people ahead over the admission rate', async (t) => {
  t.equal(estimateWaitSeconds(0, 0), 0, 'at the front: no wait')
  t.equal(estimateWaitSeconds(100, 0), null, 'nothing admitted yet: unknown, not infinite')
  t.equal(estimateWaitSeconds(100, 50), 2)
  t.equal(estimateWaitSeconds(101, 50), 3, 'rounded up')
})

t.test('a waiting buyer polls after a quarter of its expected wait, between the front\'s interval and the back\'s', async (t) => {
  const limits = { minMs: 5000, maxMs: 60_000, assumedPerSecond: 20, firstWaveSeconds: 10 }
  // A sale long under way (past its first wave), 100,000 units left and none held: everyone within reach.
  const at = (ahead: number | null, rate: number): PollPlace => ({ ahead, admittedPerSecond: rate, stock: 100_000, holdingPass: 0, sinceStartMs: 600_000 })
  t.equal(pollAfterMs(at(0, 10), limits, 0.5), 5000, 'next in line: the front\'s interval')
  t.equal(pollAfterMs(at(null, 10), limits, 0.5), 5000, 'no place: the front\'s interval')
  t.equal(pollAfterMs(at(150, 10), limits, 0.99), 5000, 'a quarter of 15 s is under the minimum: exactly the minimum, no spread')
  t.equal(pollAfterMs(at(1000, 10), limits, 0), 25_000, '100 s to wait: 25 s')
  t.equal(pollAfterMs(at(1000, 10), limits, 0.5), 27_500, 'spread by up to 20 % above it')
  t.equal(pollAfterMs(at(50_000, 10), limits, 0.9), 57_000, 'the back of a long line: the maximum, spread over its second half')
  t.equal(pollAfterMs(at(50_000, 10), limits, 0), 30_000, 'never later than the maximum, at the earliest half of it')
  t.equal(pollAfterMs(at(1000, 0), limits, 0), 12_500, 'nothing measured yet: the assumed rate (20/s)')
  // What a crowd costs: the sum of 1/pollAfter over a line of 50,000 at 20 admissions a second.
  let perSecond = 0
  for (let ahead = 0; ahead < 50_000; ahead++) perSecond += 1000 / pollAfterMs(at(ahead, 20), limits, 0.5)
  t.ok(perSecond < 2000, `50,000 waiting cost ${Math.round(perSecond)} polls/s (at one per 5 s: 10,000)`)
})

t.test('a sale\'s first wave: the front polls as fast as its stock can be admitted; beyond reach, slowly', async (t) => {
  const limits = { minMs: 2000, maxMs: 60_000, assumedPerSecond: 20, firstWaveSeconds: 10 }
  const place = (ahead: number, sinceStartMs: number, extra: Partial<PollPlace> = {}): PollPlace =>
    ({ ahead, admittedPerSecond: 0, stock: 2000, holdingPass: 0, sinceStartMs, ...extra })
  // 2,000 units over a 10 s first wave: 200 admissions/s assumed within reach, until a faster rate is measured.
  t.equal(pollAfterMs(place(1900, 1000), limits, 0), 2375, 'within reach at the start: a quarter of 1,900 ÷ 200/s')
  t.equal(pollAfterMs(place(1900, 1000, { admittedPerSecond: 12 }), limits, 0), 2375, 'a moving average still climbing from 0 does not slow it')
  t.equal(pollAfterMs(place(1900, 1000, { admittedPerSecond: 400 }), limits, 0), 2000, 'a faster measured rate wins')
  t.equal(pollAfterMs(place(1900, 20_000, { admittedPerSecond: 12 }), limits, 0), 39_583, 'after the first wave: the measured rate')
  t.equal(pollAfterMs(place(2500, 1000, { admittedPerSecond: 400 }), limits, 0), 31_250, 'beyond reach (only units coming back admit it): the assumed rate')
  t.equal(pollAfterMs(place(100, 1000, { holdingPass: 1950 }), limits, 0), 2000, '50 units left unheld, 100 ahead: beyond reach, and near the front: the minimum')
  // Before the start the wait counts from the start, capped where the place is kept.
  t.equal(pollAfterMs(place(1900, -3000), limits, 0), 3000 + 2375, 'three seconds before the start: at the start plus its quarter')
  t.equal(pollAfterMs(place(0, -3000), limits, 0.5), 3000 + 1000, 'the front of the line: spread over the start\'s first interval')
  t.equal(pollAfterMs(place(100, -20_000), limits, 0), 10_000, 'within reach 20 s before the start: again halfway there, as the line grows behind and before it')
  t.equal(pollAfterMs(place(5000, -20_000), limits, 0), 60_000 * 0.5, 'beyond reach 20 s before the start: its wait from the start, past the maximum')
  t.equal(pollAfterMs(place(10, -300_000), limits, 0.99), 59_700, 'long before the start: the maximum, which keeps the place')
  t.equal(pollAfterMs(place(30_000, -5000), limits, 0.5), 45_000, 'beyond reach before the start: capped too, and spread')
  // The first wave's cost: a line of 50,000 (2,000 within reach) at the start.
  let perSecond = 0
  for (let ahead = 0; ahead < 50_000; ahead++) perSecond += 1000 / pollAfterMs(place(ahead, 1000), limits, 0.5)
  t.ok(perSecond < 3000, `50,000 waiting for 2,000 units cost ${Math.round(perSecond)} polls/s in the first wave`)
})

t.test('a pass verifies only for its product and buyer, unexpired, signed with the same secret', async (t) => {
  const passes = createRoomPasses('room-test-secret-0123456789abcdef0123')
  const now = 1_000_000
  const pass = passes.issue({ productId: 7, buyerId: '42', expiresAt: now + 1000 })
  t.same(passes.verify(pass, { productId: 7, buyerId: '42' }, now), { ok: true, pass: { productId: 7, buyerId: '42', expiresAt: now + 1000 } })
  t.equal(passes.verify(pass, { productId: 8, buyerId: '42' }, now).ok, false, 'another product')
  t.equal(passes.verify(pass, { productId: 7, buyerId: '43' }, now).ok, false, 'another buyer')
  t.equal(passes.verify(pass, { productId: 7, buyerId: '42' }, now + 1000).ok, false, 'expired')
  const other = createRoomPasses('another-secret-0123456789abcdef01234567')
  t.equal(other.verify(pass, { productId: 7, buyerId: '42' }, now).ok, false, 'another secret')
  const [body = ''] = pass.split('.')
  const forgedBody = Buffer.from(JSON.stringify({ p: 7, b: '42', e: now + 99_999 })).toString('base64url')
  t.equal(passes.verify(`${forgedBody}.${pass.split('.')[1] ?? ''}`, { productId: 7, buyerId: '42' }, now).ok, false, 'a changed body')
  for (const junk of ['', '.', 'x', `${body}`, `${pass}.x`, 'a.b']) t.equal(passes.verify(junk, { productId: 7, buyerId: '42' }, now).ok, false, `junk ${JSON.stringify(junk).slice(0, 20)}`)
})
