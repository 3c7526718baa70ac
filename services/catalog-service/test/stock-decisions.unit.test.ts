import t from 'tap'
import { isStale, reconcileRow, staleReservation, syncRow } from '../src/stock/decisions.ts'

// The catalog's stock conclusions with no server: which reservations are stale (released by the
// sweeper, I4), when Redis and MySQL agree (I1's conservation as reconciliation reports it), and what
// a sync reports in each outcome. test/sync.test.ts proves the reads and writes on the stack.

const entry = (reservedAt: number, claimed = false) => ({ orderId: 'o1', quantity: 2, userId: null, reservedAt, claimed })

t.test('a reservation is stale when no processor claimed it before the cutoff', async (t) => {
  t.equal(isStale(entry(999), 1000), true)
  t.equal(isStale(entry(1000), 1000), false, 'made at the cutoff: not yet')
  t.equal(isStale(entry(0, true), 1000), false, 'claimed: the processor is applying it, whatever its age')
  t.same(staleReservation(7, entry(1_000), 2, 62_999), { productId: 7, orderId: 'o1', quantity: 2, ageSeconds: 61 }, 'its age in whole seconds')
})

t.test('Redis agrees with MySQL when available + pending is MySQL\'s stock', async (t) => {
  t.equal(reconcileRow(1, 'p', 10, { available: 7, pending: 3 }).agrees, true)
  t.equal(reconcileRow(1, 'p', 10, { available: 8, pending: 3 }).agrees, false, 'a unit too many on sale (oversell risk)')
  t.equal(reconcileRow(1, 'p', 10, { available: 6, pending: 3 }).agrees, false, 'a unit missing (undersell)')
  t.equal(reconcileRow(1, 'p', 0, { available: null, pending: 0 }).agrees, false, 'not on sale in Redis at all')
  t.same(reconcileRow(3, 'tea', 5, { available: 5, pending: 0 }), { productId: 3, name: 'tea', mysqlStock: 5, redisAvailable: 5, pending: 0, agrees: true })
})

t.test('a sync reports the figure it set, one already right, one left busy, and nothing for a vanished product', async (t) => {
  t.same(syncRow(1, { outcome: 'set', before: 9, after: 7, pending: 3, mysqlStock: 10 }),
    { productId: 1, mysqlStock: 10, pending: 3, before: 9, after: 7, outcome: 'set' })
  t.equal(syncRow(1, { outcome: 'set', before: 7, after: 7, pending: 3, mysqlStock: 10 })?.outcome, 'unchanged')
  t.equal(syncRow(1, { outcome: 'set', before: null, after: 10, pending: 0, mysqlStock: 10 })?.outcome, 'set', 'put on sale for the first time')
  t.same(syncRow(1, { outcome: 'busy' }, { mysqlStock: 10, snapshot: { available: 4, pending: 2 } }),
    { productId: 1, mysqlStock: 10, pending: 2, before: 4, after: 4, outcome: 'busy' }, 'busy: left as it was, reported as seen')
  t.equal(syncRow(1, { outcome: 'missing' }), null)
})
