import { mkdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { sleep, solveProofOfWork } from '@flash/common'
import { chromium, selectors, type APIRequestContext, type Browser, type Page } from 'playwright-core'

// What every browser test shares: where the stack is, the API as a client calls it, and a Chromium.

export const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? 'local-only-flash-sale-admin-token-replace-me-in-any-real-deployment'
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots')

/**
 * The API through nginx (/api), as JSON. `admin` sends the admin token, `buyerToken` a buyer's; a 503
 * (a busy gateway sheds load with Retry-After) is retried the way a client should.
 */
export async function api<T> (method: string, path: string, body?: unknown, admin = false, buyerToken?: string): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`
  if (buyerToken !== undefined) headers.authorization = `Bearer ${buyerToken}`
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${BASE_URL}/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await res.text()
    if (res.status === 503 && attempt < 10) {
      await sleep(1000)
      continue
    }
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: res.headers }
  }
}

/**
 * A client address of its own for a sign-up made through the API: nginx believes X-Forwarded-For
 * from this machine, so a test's sign-ups do not spend the per-address limits of the browser (and of
 * every other test) on 127.0.0.1. 198.18.0.0/15 is reserved for benchmarks.
 */
const testClientAddress = (): string => `198.18.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`

/** What a sign-up needs besides name and password: the solved proof of work when the catalog asks for one. */
async function signupProof (address: string): Promise<{ proof?: { challenge: string, nonce: string } }> {
  const res = await fetch(`${BASE_URL}/api/auth/challenge`, { headers: { 'x-forwarded-for': address } })
  if (res.status !== 200) throw new Error(`challenge answered ${res.status}: ${await res.text()}`)
  const { challenge, bits } = await res.json() as { challenge: string, bits: number }
  return bits > 0 ? { proof: { challenge, nonce: solveProofOfWork(challenge, bits) } } : {}
}

/** Registers an account through the API from a client address of its own; answers the status. */
export async function registerAccount (username: string, password: string): Promise<number> {
  const address = testClientAddress()
  const res = await fetch(`${BASE_URL}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
    body: JSON.stringify({ username, password, cookies: false, ...await signupProof(address) })
  })
  await res.arrayBuffer()
  return res.status
}

/** Registers a buyer in a browser context's request context (its session cookies); answers the access token. */
export async function signUpInContext (request: APIRequestContext, username: string, password: string): Promise<string> {
  const address = testClientAddress()
  const res = await request.post(`${BASE_URL}/api/auth/register`, { data: { username, password, ...await signupProof(address) }, headers: { 'x-forwarded-for': address } })
  if (res.status() !== 201) throw new Error(`register answered ${res.status()}: ${await res.text()}`)
  return ((await res.json()) as { accessToken: string }).accessToken
}

/** Checks the stack answers, then starts Debian's Chromium; the app marks what tests look for with data-test. */
export async function launchBrowser (): Promise<Browser> {
  const ready = await fetch(`${BASE_URL}/api/products?pageSize=1`).then((r) => r.status, (e: Error) => e.message)
  if (ready !== 200) throw new Error(`the stack is not serving ${BASE_URL}/api/products (got ${ready}) — start it with make local / make up`)
  await mkdir(SCREENSHOTS, { recursive: true })
  selectors.setTestIdAttribute('data-test')
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  })
  // Every context speaks from a client address of its own (nginx takes X-Forwarded-For from 127.0.0.1),
  // so the per-address limits it meets (sign-ups, logins, orders) are its own, not those of whatever
  // else ran from 127.0.0.1 in the same minute: the API contract run, another browser suite.
  const newContext = browser.newContext.bind(browser)
  browser.newContext = async (options = {}) =>
    await newContext({ ...options, extraHTTPHeaders: { 'x-forwarded-for': testClientAddress(), ...options.extraHTTPHeaders } })
  return browser
}

/** axe-core's source, injected into a page (the context needs bypassCSP: the shop's CSP forbids inline scripts). */
let axeSource: string | undefined
async function axe (): Promise<string> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  return axeSource
}

/** WCAG 2.1 A/AA violations of impact serious or critical on the page as it is now, as "rule×count: target". */
export async function seriousViolations (page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.addScriptTag({ content: await axe() })
  // A string, not a function: this file is type-checked without the DOM's types.
  return await page.evaluate<string[]>(`(async () => {
    const { violations } = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] })
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + '×' + v.nodes.length + ': ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '))
  })()`)
}
