import t from 'tap'
import { AppError } from '@flash/common'
import { checkImageUrl, saleWindow } from '../src/products/rules.ts'

// The catalog's input decisions that no schema states, with no server: each refusal is a 400 naming
// the field, and what passes is what gets stored.

const refusal = (fn: () => unknown): { statusCode: number, message: string } | null => {
  try {
    fn()
    return null
  } catch (error) {
    if (!(error instanceof AppError)) throw error
    return { statusCode: error.statusCode, message: error.message }
  }
}

t.test('an image URL must parse as browsers parse it, whatever the pattern let through', async (t) => {
  t.equal(refusal(() => checkImageUrl('https://example.com/a.jpg')), null)
  t.equal(refusal(() => checkImageUrl(null)), null, 'no image')
  t.equal(refusal(() => checkImageUrl(undefined)), null, 'not changed')
  t.match(refusal(() => checkImageUrl('http://r6C[')), { statusCode: 400, message: /body\/imageUrl/ })
})

t.test('a sale window: bounds parsed, in range, the end after the start', async (t) => {
  t.same(saleWindow({ saleStartsAt: null, saleEndsAt: null }), { startsAt: null, endsAt: null }, 'no window')
  t.same(saleWindow({ saleStartsAt: '2030-06-18T12:00:00+08:00', saleEndsAt: null }),
    { startsAt: new Date('2030-06-18T04:00:00.000Z'), endsAt: null }, 'a start in another time zone is stored in UTC')
  t.same(saleWindow({ saleStartsAt: '2030-01-01T00:00:00Z', saleEndsAt: '2030-01-01T00:00:00.001Z' }).endsAt,
    new Date('2030-01-01T00:00:00.001Z'), 'one millisecond is a window')
  t.match(refusal(() => saleWindow({ saleStartsAt: '2030-01-01T00:00:00Z', saleEndsAt: '2030-01-01T00:00:00Z' })),
    { statusCode: 400, message: /body\/saleEndsAt must be after saleStartsAt/ }, 'an empty window')
  t.match(refusal(() => saleWindow({ saleStartsAt: '1999-12-31T23:59:59Z', saleEndsAt: null })),
    { statusCode: 400, message: /body\/saleStartsAt/ }, 'before 2000')
  t.match(refusal(() => saleWindow({ saleStartsAt: null, saleEndsAt: '+275760-09-13T00:00:00Z' })),
    { statusCode: 400, message: /body\/saleEndsAt/ }, 'past 9999')
  t.match(refusal(() => saleWindow({ saleStartsAt: 'tomorrow', saleEndsAt: null })),
    { statusCode: 400, message: /body\/saleStartsAt/ }, 'not a date')
})
