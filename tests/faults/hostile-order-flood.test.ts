import t from 'tap'
import { request } from 'undici'
import { productKeys } from '@flash/common'
import { NGINX, prepareScenario, uniqueTag } from './support/stack.ts'
import { createProduct } from './support/catalog.ts'

// One client floods POST /api/orders through nginx: the edge's limit_req answers 429 in the services'
// error shape with Retry-After once the client's burst is spent, reads are never limited, another
// client is unaffected, and nothing beyond what was accepted is reserved (docs/ARCHITECTURE.md §6).

const address = (): string => `203.0.113.${1 + Math.floor(Math.random() * 250)}`

async function order (productId: number, client: string): Promise<{ status: number, code: string | undefined, retryAfter: string | undefined }> {
  const res = await request(`${NGINX}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
    body: JSON.stringify({ productId, quantity: 1 })
  })
  const body = await res.body.json() as { code?: string }
  const retryAfter = res.headers['retry-after']
  return { status: res.statusCode, code: body.code, retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined }
}

t.test('a flood of orders from one address is cut at the edge with 429 + Retry-After', async (t) => {
  const clients = await prepareScenario(t, [])
  const product = await createProduct(`flood ${uniqueTag('flood')}`, 1000)
  const client = address()
  const answers = await Promise.all(Array.from({ length: 80 }, () => order(product.id, client)))
  const limited = answers.filter((a) => a.status === 429)
  const accepted = answers.filter((a) => a.status === 202)
  t.ok(limited.length >= 40, `most of 80 simultaneous orders are refused at the edge (${limited.length} refused, ${accepted.length} accepted)`)
  t.ok(accepted.length >= 1 && accepted.length <= 40, 'the burst allowance got through, not more')
  t.same(new Set(limited.map((a) => a.code)), new Set(['RATE_LIMITED']), 'the stable error code')
  t.ok(limited.every((a) => a.retryAfter === '1'), 'every 429 says when to retry')
  t.same(new Set(answers.map((a) => a.status)), new Set([202, 429]), 'nothing else')

  const other = await order(product.id, address() === client ? '203.0.113.251' : address())
  t.equal(other.status, 202, 'another address is not limited')

  const read = await request(`${NGINX}/api/orders?pageSize=1`, { headers: { 'x-forwarded-for': client } })
  await read.body.dump()
  t.not(read.statusCode, 429, 'reads are not limited')

  const left = Number(await clients.redis.get(productKeys(product.id).stock))
  t.equal(left, 1000 - accepted.length - 1, 'Redis reserved exactly the accepted orders')
})
