import t from 'tap'
import { falseSoldOuts } from '../../bench/verify.ts'

// The bench's I5 check from Redis samples: which refusals a sample proves false, around a restock
// mid-run. Times are ms since the sale's first request (epochAt0 0).

interface Request { sent: number, received: number, code?: string }
const loadOf = (requests: Request[]): Parameters<typeof falseSoldOuts>[0] => ({
  epochAt0: 0,
  sentAt: Float64Array.from(requests, (r) => r.sent),
  receivedAt: Float64Array.from(requests, (r) => r.received),
  codes: new Map(requests.flatMap((r, i) => r.code === undefined ? [] : [[i, r.code] as const]))
})
const refused = (sent: number, received: number): Request => ({ sent, received, code: 'INSUFFICIENT_STOCK' })
const sample = (at: number, stock: number | null): { at: number, stock: number | null } => ({ at, stock })

t.test('a refusal before a sample that still saw units is false; after the sample saw 0, none is', async (t) => {
  const samples = [sample(-5, 1), sample(100, 1), sample(350, 0)]
  t.same(falseSoldOuts(loadOf([refused(80, 92), refused(200, 210)]), samples, null), { count: 1, firstAt: 92 },
    'received at 92 ms, a sample at 100 ms saw 1 unit: false; received at 210 ms: no later sample saw units')
  t.same(falseSoldOuts(loadOf([{ sent: 0, received: 20 }, refused(80, 92)]), [sample(100, 0)], null), { count: 0, firstAt: null },
    'samples at 0 units prove nothing')
  t.same(falseSoldOuts(loadOf([refused(0, 10), { sent: 0, received: 11, code: 'PER_USER_LIMIT' }]), [sample(50, null), sample(60, 3)], null),
    { count: 1, firstAt: 10 }, 'only INSUFFICIENT_STOCK refusals count; an unreadable sample proves nothing')
})

t.test('a restock: requests in flight across it are not judged, before and after it each stretch has its own samples', async (t) => {
  const unitsBack = { sentAt: 4788, answeredAt: 4840 }
  const samples = [sample(4500, 0), sample(4850, 50), sample(5100, 0)]
  t.same(falseSoldOuts(loadOf([refused(4700, 4845), refused(4800, 4860)]), samples, unitsBack), { count: 0, firstAt: null },
    'sent before the restock was answered, received after it: may have been decided before the units came back')
  t.same(falseSoldOuts(loadOf([refused(4000, 4100)]), samples, unitsBack), { count: 0, firstAt: null },
    'before the restock: the sample after it (50 units) does not make an earlier refusal false')
  t.same(falseSoldOuts(loadOf([refused(4000, 4100)]), [sample(4200, 1), ...samples], unitsBack), { count: 1, firstAt: 4100 },
    'before the restock: a sample from before it that still saw units does')
  t.same(falseSoldOuts(loadOf([refused(4841, 4848)]), samples, unitsBack), { count: 1, firstAt: 4848 },
    'sent after the restock was answered and refused while a later sample saw its units: false')
})
