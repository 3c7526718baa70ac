import t from 'tap'
import { request } from 'undici'
import type { RowDataPacket } from 'mysql2/promise'
import { NGINX, prepareScenario, uniqueTag } from './support/stack.ts'

// One client address scripts sign-ups through nginx (docs/ARCHITECTURE.md §10): past its burst the
// edge answers 429 RATE_LIMITED before the catalog checks a proof or hashes a password; what got
// through without a proof of work is refused naming `proof`; no account exists afterwards, and
// another address is unaffected.

const BURST = 10

const address = (): string => `198.51.100.${1 + Math.floor(Math.random() * 250)}`

async function signUp (username: string, client: string): Promise<{ status: number, code: string | undefined, field: string | undefined }> {
  const res = await request(`${NGINX}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
    body: JSON.stringify({ username, password: 'a-good-password', cookies: false })
  })
  const body = await res.body.json() as { code?: string, field?: string }
  return { status: res.statusCode, code: body.code, field: body.field }
}

t.test('scripted sign-ups from one address: 429 at the edge past the burst, a proof required before, no account made', async (t) => {
  const clients = await prepareScenario(t, [])
  const tag = uniqueTag('signup').replace(/[^a-z0-9]/gi, '').slice(-20)
  const client = address()
  const names = Array.from({ length: 20 }, (_, i) => `${tag}${i}`)
  const answers = []
  for (const name of names) answers.push(await signUp(name, client))
  const limited = answers.filter((a) => a.status === 429)
  const reached = answers.filter((a) => a.status !== 429)
  t.ok(reached.length >= 1 && reached.length <= BURST + 1, `the burst reached the catalog, not more (${reached.length} of ${names.length})`)
  t.ok(limited.length >= names.length - BURST - 1, `the rest were refused at the edge (${limited.length})`)
  t.same(new Set(limited.map((a) => a.code)), new Set(['RATE_LIMITED']), 'with the stable error code')
  t.same(new Set(reached.map((a) => `${a.status} ${a.code} ${a.field}`)), new Set(['403 PROOF_OF_WORK_REQUIRED proof']),
    'what reached the catalog was refused for want of a proof, naming the field')

  const other = await signUp(`${tag}x`, client === '198.51.100.251' ? '198.51.100.252' : '198.51.100.251')
  t.equal(other.status, 403, 'another address reaches the catalog')

  const [rows] = await clients.mysql.query<RowDataPacket[]>('SELECT username FROM buyers WHERE username IN (?)', [[...names, `${tag}x`]])
  t.same(rows, [], 'no account in MySQL')
})
