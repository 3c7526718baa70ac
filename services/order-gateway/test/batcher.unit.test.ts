import t from 'tap'
import { MicroBatcher, PublishTimeoutError, BatcherClosedError } from '../src/publishing/batcher.ts'

// The micro-batcher's logic, without Kafka: `send` records the batches it is given.
function recorder (options: { lingerMs?: number, maxBatch?: number, maxInFlight?: number } = {}) {
  const batches: number[][] = []
  const gates: Array<{ open: () => void, fail: (e: Error) => void }> = []
  let hold = false
  const batcher = new MicroBatcher<number>({
    lingerMs: options.lingerMs ?? 1,
    maxBatch: options.maxBatch ?? 100,
    ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
    send: async (items) => {
      batches.push(items)
      if (hold) await new Promise<void>((resolve, reject) => gates.push({ open: resolve, fail: reject }))
    }
  })
  return { batcher, batches, gates, holdSends: (on: boolean) => { hold = on } }
}

t.test('items submitted within the linger leave in one batch', async (t) => {
  const { batcher, batches } = recorder({ lingerMs: 5 })
  await Promise.all([1, 2, 3].map((n) => batcher.submit(n)))
  t.same(batches, [[1, 2, 3]])
})

t.test('a full batch leaves at once; items queued while it is on its way leave together after it', async (t) => {
  const { batcher, batches, gates, holdSends } = recorder({ lingerMs: 10_000, maxBatch: 3 })
  holdSends(true)
  const done = [1, 2, 3, 4, 5, 6, 7].map((n) => batcher.submit(n))
  t.same(batches, [[1, 2, 3]], 'the cap, not the (long) linger, sent the first batch')
  holdSends(false)
  gates[0]?.open()
  await Promise.all(done)
  t.same(batches, [[1, 2, 3], [4, 5, 6], [7]], 'capped at 3, one batch on its way at a time')
})

t.test("a failed batch rejects every caller in it with the batch's error, and only them", async (t) => {
  let calls = 0
  const batcher = new MicroBatcher<number>({
    lingerMs: 1,
    maxBatch: 2,
    send: async () => { if (++calls === 1) throw new Error('broker gone') }
  })
  const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)))
  t.match(results[0], { status: 'rejected', reason: { message: 'broker gone' } })
  t.match(results[1], { status: 'rejected', reason: { message: 'broker gone' } })
  t.match(results[2], { status: 'fulfilled' })
})

t.test('an item that times out before its batch leaves is withdrawn, never sent', async (t) => {
  const { batcher, batches, gates, holdSends } = recorder({ lingerMs: 1, maxBatch: 1 })
  holdSends(true)
  const first = batcher.submit(1, 10_000)
  const late = batcher.submit(2, 20)
  await t.rejects(late, PublishTimeoutError)
  holdSends(false)
  gates[0]?.open()
  await first
  await batcher.flush()
  t.same(batches, [[1]], 'item 2 was withdrawn')
})

t.test('an item whose batch is on its way still times out for its caller', async (t) => {
  const { batcher, gates, holdSends } = recorder({ lingerMs: 1 })
  holdSends(true)
  await t.rejects(batcher.submit(1, 30), PublishTimeoutError)
  gates[0]?.open()
  await batcher.flush()
})

t.test('close sends what is queued and then refuses new items', async (t) => {
  const { batcher, batches } = recorder({ lingerMs: 10_000 })
  const queued = batcher.submit(1)
  await batcher.close()
  await queued
  t.same(batches, [[1]])
  await t.rejects(batcher.submit(2), BatcherClosedError)
})
