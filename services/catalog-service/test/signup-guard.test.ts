import t from 'tap'
import { ErrorCode, solveProofOfWork } from '@flash/common'
import { testStack, uniqueName } from '@flash/common/test-support'
import type { RowDataPacket } from 'mysql2/promise'
import { buildTestApp } from './helper.ts'

// What a sign-up costs a script when the operator turns it on (docs/ARCHITECTURE.md §10): a solved
// proof-of-work challenge, used once, and a per-address limit. Off by default (every other test
// registers freely).

const BITS = 12
const app = await buildTestApp(t, {}, { SIGNUP_POW_BITS: String(BITS), SIGNUP_LIMIT_PER_HOUR: '3' })

const stack = testStack(t)
let lastUsername = ''
const register = async (body: Record<string, unknown>, address = '10.9.9.1') => {
  lastUsername = uniqueName('pow').slice(0, 32)
  return await app.inject({ method: 'POST', url: '/auth/register', remoteAddress: address, payload: { username: lastUsername, password: 'correct horse battery', cookies: false, ...body } })
}
/** Whether MySQL holds an account for the name the last sign-up asked for. */
const lastAccountExists = async (): Promise<boolean> => {
  const [rows] = await stack.mysql.query<RowDataPacket[]>('SELECT id FROM buyers WHERE username = ?', [lastUsername])
  return rows.length > 0
}
const solved = async () => {
  const res = await app.inject('/auth/challenge')
  t.equal(res.statusCode, 200)
  const { challenge, bits } = res.json() as { challenge: string, bits: number }
  t.equal(bits, BITS)
  return { challenge, nonce: solveProofOfWork(challenge, bits) }
}

t.test('without a proof, with a wrong or reused one: refused before any account exists', async (t) => {
  const none = await register({})
  t.equal(none.statusCode, 403)
  t.equal(none.json().code, ErrorCode.PROOF_OF_WORK_REQUIRED)
  t.equal(none.json().field, 'proof', 'the refusal names the field')
  t.notOk(await lastAccountExists(), 'no account in MySQL')
  const { challenge } = await solved()
  const wrong = await register({ proof: { challenge, nonce: 'not-a-solution-probably' } })
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.json().code, ErrorCode.PROOF_OF_WORK_INVALID)
  t.equal(wrong.json().field, 'proof', 'the refusal names the field')
  t.match(wrong.json().message, /proof/)
  t.notOk(await lastAccountExists(), 'no account in MySQL')

  const proof = await solved()
  t.equal((await register({ proof }, '10.9.9.2')).statusCode, 201, 'a solved challenge signs up')
  const again = await register({ proof }, '10.9.9.2')
  t.equal(again.statusCode, 403, 'the same solution twice')
  t.equal(again.json().code, ErrorCode.PROOF_OF_WORK_INVALID)
  t.notOk(await lastAccountExists(), 'no second account in MySQL')
})

t.test('at most SIGNUP_LIMIT_PER_HOUR sign-ups per address, others unaffected', async (t) => {
  for (let i = 0; i < 3; i++) t.equal((await register({ proof: await solved() }, '10.9.9.3')).statusCode, 201)
  const fourth = await register({ proof: await solved() }, '10.9.9.3')
  t.equal(fourth.statusCode, 429)
  t.equal(fourth.json().code, ErrorCode.RATE_LIMITED)
  t.ok(Number(fourth.headers['retry-after']) > 0, 'Retry-After')
  t.notOk(await lastAccountExists(), 'no account in MySQL past the limit')
  t.equal((await register({ proof: await solved() }, '10.9.9.4')).statusCode, 201, 'another address still signs up')
})
