import t from 'tap'
import { createProofOfWork, leadingZeroBits, solveProofOfWork } from '../src/auth/proof-of-work.ts'

const pow = createProofOfWork('pow-test-secret-0123456789abcdef0123456')
const now = 1_000_000

t.test('leading zero bits', async (t) => {
  t.equal(leadingZeroBits(Buffer.from([0x80])), 0)
  t.equal(leadingZeroBits(Buffer.from([0x01])), 7)
  t.equal(leadingZeroBits(Buffer.from([0x00, 0x10])), 11)
  t.equal(leadingZeroBits(Buffer.from([0x00, 0x00])), 16)
})

t.test('a solved challenge verifies once per scope and bits, unexpired and unforged', async (t) => {
  const issued = pow.issue('signup', 10, now, 60_000)
  const nonce = solveProofOfWork(issued.challenge, 10)
  const ok = pow.verify(issued.challenge, nonce, 'signup', 10, now)
  t.equal(ok.ok, true, 'solved')
  t.equal(pow.verify(issued.challenge, nonce, 'room:1', 10, now).ok, false, 'another scope')
  t.equal(pow.verify(issued.challenge, nonce, 'signup', 10, now + 60_000).ok, false, 'expired')
  t.equal(pow.verify(issued.challenge, nonce, 'signup', 30, now).ok, false, 'the operator raised the bits')
  const unsolved = Array.from({ length: 50 }, (_, i) => String(i)).filter((n) => pow.verify(issued.challenge, n, 'signup', 10, now).ok)
  t.ok(unsolved.length <= 2, 'arbitrary nonces rarely solve it (2^-10 each)')
  const [body = '', sig = ''] = issued.challenge.split('.')
  const forged = `${Buffer.from(JSON.stringify({ s: 'signup', b: 0, e: now + 1e9, r: 'x' })).toString('base64url')}.${sig}`
  t.equal(pow.verify(forged, '0', 'signup', 0, now).ok, false, 'a body changed under the signature')
  t.equal(pow.verify(`${body}.${sig}.x`, nonce, 'signup', 10, now).ok, false, 'junk appended')
  t.equal(createProofOfWork('x'.repeat(40)).verify(issued.challenge, nonce, 'signup', 10, now).ok, false, 'another secret')
})
