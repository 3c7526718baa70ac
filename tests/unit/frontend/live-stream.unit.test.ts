// The live view's stream as the page reads it, with no server and no browser: server-sent events cut
// anywhere by the network, and the series a chart keeps.
import t from 'tap'
import { addPoints, parseServerEvents, pointsOf, type LivePoint } from '../../../frontend/src/live-stream.ts'

const point = (at: number, accepted = 0): LivePoint => ({
  productId: 1, at, accepted, refused: 0, p50Ms: null, p99Ms: null, stock: 5, unitsHeld: 0, unitsPaid: 0, unitsConfirmed: 0, kafkaLag: 0,
})

t.test('events cut at any byte read the same as whole', async (t) => {
  const text = `retry: 2000\nevent: history\ndata: ${JSON.stringify({ points: [point(1000), point(2000)] })}\n\n: a comment\n\nevent: point\ndata: ${JSON.stringify(point(3000, 4))}\n\nevent: gap\ndata: {"at":4000}\n\n`
  const whole = parseServerEvents(text)
  t.same(whole.events.map((e) => e.event), ['history', 'point', 'gap'])
  t.equal(whole.rest, '')
  for (let cut = 1; cut < text.length; cut += 7) {
    const first = parseServerEvents(text.slice(0, cut))
    const second = parseServerEvents(first.rest + text.slice(cut))
    t.same([...first.events, ...second.events], whole.events, `cut at ${cut}`)
  }
  t.same(whole.events.flatMap(pointsOf).map((p) => p.at), [1000, 2000, 3000], 'history and point events carry points, gap none')
})

t.test('CRLF line ends and multi-line data are read as the standard says', async (t) => {
  const { events } = parseServerEvents('event: x\r\ndata: a\r\ndata: b\r\n\r\n')
  t.same(events, [{ event: 'x', data: 'a\nb' }])
})

t.test('a series keeps one point per second, in order, at most `keep`', async (t) => {
  const series = addPoints([], [point(2000), point(1000)], 10)
  t.same(series.map((p) => p.at), [1000, 2000])
  const again = addPoints(series, [point(2000, 9), point(3000)], 10)
  t.same(again.map((p) => [p.at, p.accepted]), [[1000, 0], [2000, 9], [3000, 0]], 'a second seen twice is kept once, the newest')
  t.same(addPoints(again, [point(4000)], 2).map((p) => p.at), [3000, 4000], 'the oldest go')
})
