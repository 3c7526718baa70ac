import t from 'tap'
import { decodeMessage, encodeMessage, MessageType, SCHEMA_VERSION, type OrderPlaced } from '../src/contracts/messages.ts'
import { newOrderId } from '../src/contracts/ids.ts'

const placed: OrderPlaced = {
  type: MessageType.ORDER_PLACED,
  version: SCHEMA_VERSION,
  orderId: newOrderId(),
  productId: 1,
  quantity: 2,
  userId: null,
  requestId: 'r1',
  createdAt: new Date().toISOString()
}

t.test('a well-formed order.placed decodes to itself', async (t) => {
  t.same(decodeMessage(Buffer.from(encodeMessage(placed))), { ok: true, message: placed })
})

t.test('poison messages are refused with a reason, never thrown', async (t) => {
  const cases: Array<[Buffer | null, RegExp]> = [
    [null, /empty/],
    [Buffer.from('not json'), /not JSON/],
    [Buffer.from('42'), /not a JSON object/],
    [Buffer.from(JSON.stringify({ ...placed, type: 'order.exploded' })), /unknown message type/],
    [Buffer.from(JSON.stringify({ ...placed, quantity: 0 })), /quantity/],
    [Buffer.from(JSON.stringify({ ...placed, orderId: 'x' })), /orderId/],
    [Buffer.from(JSON.stringify({ ...placed, extra: 1 })), /invalid order.placed/]
  ]
  for (const [value, reason] of cases) {
    const decoded = decodeMessage(value)
    t.equal(decoded.ok, false)
    if (!decoded.ok) t.match(decoded.reason, reason)
  }
})

t.test('fields the orders table could not store make the message poison', async (t) => {
  for (const broken of [{ requestId: 'r'.repeat(65) }, { createdAt: 'yesterday' }, { quantity: 10_000_000 }]) {
    const decoded = decodeMessage(Buffer.from(JSON.stringify({ ...placed, ...broken })))
    t.equal(decoded.ok, false, JSON.stringify(broken))
  }
})
