import t from 'tap'
import { consumerLag } from '../src/live/kafka-lag.ts'

// The consumer lag the live view shows (docs/ARCHITECTURE.md §11): end offsets minus the group's
// committed offsets, with no Kafka.

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
