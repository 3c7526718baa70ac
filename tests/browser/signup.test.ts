// The shop's sign-up form pays the sign-up's proof of work (docs/ARCHITECTURE.md §10): with the
// shipped default (SIGNUP_POW_BITS > 0) the form asks for a challenge, solves it in a worker with Web
// Crypto, and the account exists; the page stays responsive meanwhile.
//
// BASE_URL (default http://localhost:8080), CHROMIUM_PATH. Screenshot: test-results/screenshots/signup-pow.png.
import t from 'tap'
import { join } from 'node:path'
import { leadingZeroBits } from '@flash/common'
import { createHash } from 'node:crypto'
import type { Browser } from 'playwright-core'
import { BASE_URL, PHONE, SCREENSHOTS, api, launchBrowser, SIGN_UP_TIMEOUT_MS } from './support.ts'

let browser: Browser
t.before(async () => { browser = await launchBrowser() })
t.teardown(async () => { await browser?.close() })

t.test('the sign-up form solves the proof of work the catalog asks for, in a worker, and signs up', async (t) => {
  const challenge = await api<{ bits: number }>('GET', '/auth/challenge')
  t.ok(challenge.body.bits > 0, `the stack asks sign-ups for proof of work (${challenge.body.bits} bits)`)

  const context = await browser.newContext({ locale: 'en-US', viewport: PHONE })
  t.teardown(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  const sent: Array<{ username?: string, proof?: { challenge: string, nonce: string } }> = []
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/api/auth/register')) sent.push(request.postDataJSON() as typeof sent[number])
  })
  const workers: string[] = []
  page.on('worker', (worker) => workers.push(worker.url()))

  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('sign-in-open').click()
  const username = `pow${Date.now().toString(36)}`
  await page.getByTestId('auth-username').fill(username)
  await page.getByTestId('auth-password').fill('a-good-password')
  const startedAt = Date.now()
  await page.getByTestId('auth-register').click()
  await page.getByTestId('signed-in-as').getByText(username).waitFor({ timeout: SIGN_UP_TIMEOUT_MS })
  t.comment(`signed up with proof of work in ${Date.now() - startedAt} ms`)
  await page.screenshot({ path: join(SCREENSHOTS, 'signup-pow.png'), fullPage: true })

  t.equal(sent.length, 1, 'one sign-up request')
  const proof = sent[0]?.proof
  t.ok(proof, 'it carried a proof')
  if (proof !== undefined) {
    const hash = createHash('sha256').update(`${proof.challenge}:${proof.nonce}`).digest()
    t.ok(leadingZeroBits(hash) >= challenge.body.bits, 'that solves the challenge')
  }
  t.ok(workers.some((url) => url.includes('solver')), 'solved in a worker, off the page\'s thread')
  const me = await context.request.get(`${BASE_URL}/api/auth/me`)
  t.equal(me.status(), 200, 'the session is the new account\'s')
  t.equal((await me.json() as { username: string }).username, username)
})
