import t from 'tap'
import type { Kafka } from 'kafkajs'
import { pino } from 'pino'
import type { LiveStore } from '@flash/common'
import { consumerLag, KafkaLagReporter } from '../src/live/kafka-lag.ts'

// The consumer lag the live view shows (docs/ARCHITECTURE.md §11): end offsets minus the group's
// committed offsets, and when it is measured at all, with no Kafka.

t.test('the lag is what the group has not committed, summed over partitions', async (t) => {
  const ends = [{ partition: 0, offset: '120', low: '0' }, { partition: 1, offset: '40', low: '0' }, { partition: 2, offset: '7', low: '0' }]
  t.equal(consumerLag(ends, [{ partition: 0, offset: '100' }, { partition: 1, offset: '40' }, { partition: 2, offset: '7' }]), 20)
  t.equal(consumerLag(ends, [{ partition: 0, offset: '120' }, { partition: 1, offset: '40' }, { partition: 2, offset: '7' }]), 0, 'caught up')
})

t.test('a partition the group never committed counts from its first offset on the broker', async (t) => {
  t.equal(consumerLag([{ partition: 0, offset: '50', low: '30' }], [{ partition: 0, offset: '-1' }]), 20)
  t.equal(consumerLag([{ partition: 0, offset: '50', low: '30' }], []), 20, 'no offset listed at all')
})

t.test('a committed offset past the end (a truncated topic) is no negative lag', async (t) => {
  t.equal(consumerLag([{ partition: 0, offset: '5', low: '0' }], [{ partition: 0, offset: '9' }]), 0)
})

t.test('with no live view open the reporter asks Kafka nothing and writes nothing; with one it measures', async (t) => {
  const asked: string[] = []
  const written: number[] = []
  let watched = false
  const admin = {
    connect: async () => { asked.push('connect') },
    disconnect: async () => {},
    fetchTopicOffsets: async () => { asked.push('ends'); return [{ partition: 0, offset: '12', high: '12', low: '0' }] },
    fetchOffsets: async () => { asked.push('committed'); return [{ topic: 'orders', partitions: [{ partition: 0, offset: '10' }] }] }
  }
  const reporter = new KafkaLagReporter({
    kafka: { admin: () => admin } as unknown as Kafka,
    store: { watched: async () => watched, setKafkaLag: async (_topic: string, lag: number) => { written.push(lag) } } as unknown as LiveStore,
    topic: 'orders',
    groupId: 'order-processor',
    log: pino({ level: 'silent' })
  })
  await reporter.report()
  t.same(asked, [], 'nobody watching: no Kafka request')
  t.same(written, [], 'and no lag written')
  watched = true
  await reporter.report()
  t.same(asked, ['connect', 'ends', 'committed'], 'a view open: the two offset requests')
  t.same(written, [2], 'and the lag written')
  await reporter.close()
})

t.test('closing does not wait for a measurement the broker never answers: it disconnects after the grace', async (t) => {
  let disconnected = false
  const admin = {
    connect: async () => {},
    disconnect: async () => { disconnected = true },
    fetchTopicOffsets: async () => await new Promise<never>(() => {}), // no answer, ever
    fetchOffsets: async () => [{ topic: 'orders', partitions: [] }]
  }
  const reporter = new KafkaLagReporter({
    kafka: { admin: () => admin } as unknown as Kafka,
    store: { watched: async () => true, setKafkaLag: async () => {} } as unknown as LiveStore,
    topic: 'orders',
    groupId: 'order-processor',
    log: pino({ level: 'silent' }),
    intervalMs: 10
  })
  reporter.start()
  await new Promise((resolve) => setTimeout(resolve, 50)) // a measurement is under way and hangs
  const started = Date.now()
  await reporter.close(100)
  const took = Date.now() - started
  t.ok(took >= 90 && took < 1000, `close returned after its grace (${took} ms), not the measurement's course`)
  t.ok(disconnected, 'and disconnected the admin client (which ends the request)')
})
