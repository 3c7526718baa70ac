import t from 'tap'
import { ClientBudgets } from '../src/admission/client-budgets.ts'

t.test('a client past its budget is told to come back when the window ends; others keep theirs', async (t) => {
  let now = 1_000_000
  const budgets = new ClientBudgets({ max: 3, windowMs: 2000, now: () => now })
  for (let i = 0; i < 3; i++) t.equal(budgets.take('198.18.0.1'), undefined, `order ${i + 1} of 3 is within the budget`)
  t.same(budgets.take('198.18.0.1'), { retryAfterSeconds: 2 }, 'the fourth is over it, for the rest of the window')
  t.equal(budgets.take('198.18.0.2'), undefined, 'another client has its own budget')
  now += 1500
  t.same(budgets.take('198.18.0.1'), { retryAfterSeconds: 1 }, 'still over it; Retry-After is never 0')
  now += 500
  t.equal(budgets.take('198.18.0.1'), undefined, 'a new window: the budget is back')
})
