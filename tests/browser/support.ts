import { mkdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { sleep, solveProofOfWork } from '@flash/common'
import type { Test } from 'tap'
import { chromium, selectors, type APIRequestContext, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core'

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

/**
 * Checks the stack answers, then starts Debian's Chromium headless shell (package
 * chromium-headless-shell: the same Chromium build without the browser's own UI, what Playwright runs
 * for headless Chromium by default; a quarter less CPU than /usr/bin/chromium for these suites, which
 * CHROMIUM_PATH=/usr/bin/chromium still runs). The app marks what tests look for with data-test.
 */
export async function launchBrowser (): Promise<Browser> {
  const ready = await fetch(`${BASE_URL}/api/products?pageSize=1`).then((r) => r.status, (e: Error) => e.message)
  if (ready !== 200) throw new Error(`the stack is not serving ${BASE_URL}/api/products (got ${ready}) — start it with make local / make up`)
  await mkdir(SCREENSHOTS, { recursive: true })
  selectors.setTestIdAttribute('data-test')
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium-headless-shell',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  })
  // Every context speaks from a client address of its own (nginx takes X-Forwarded-For from 127.0.0.1),
  // so the per-address limits it meets (sign-ups, logins, orders) are its own, not those of whatever
  // else ran from 127.0.0.1 in the same minute: the API contract run, another browser suite.
  const newContext = browser.newContext.bind(browser)
  browser.newContext = async (options = {}) => {
    const context = await newContext({ ...options, extraHTTPHeaders: { 'x-forwarded-for': testClientAddress(), ...options.extraHTTPHeaders } })
    trackRequests(context)
    return context
  }
  return browser
}

/**
 * How long a sign-up through the form may take: with the shipped SIGNUP_POW_BITS (18) the form solves a
 * proof of work in a worker first. The number of hashes is geometric (mean 2^bits, one solve in a
 * thousand takes 7× the mean): ~6 s on average on a quiet machine, several times that in a busy test run.
 */
export const SIGN_UP_TIMEOUT_MS = 120_000

/** The page sizes the browser suites use: a desktop, a phone, the narrowest phone the shop supports. */
export const DESKTOP = { width: 1280, height: 900 }
export const PHONE = { width: 390, height: 844 }
export const NARROW = { width: 360, height: 780 }

export interface Visit {
  locale: 'zh' | 'en'
  viewport: { width: number, height: number }
  /** where the page's uncaught errors are collected (each file asserts none at its end) */
  errors: string[]
  /** the admin token in the session, as after the admin's sign-in */
  admin?: boolean
  /** more localStorage entries, set before any page script */
  storage?: Record<string, string>
  /** a Playwright action's timeout (default 15 s) */
  timeoutMs?: number
}

/**
 * A context and its page as a visitor meets the shop: the language (and the admin token, and any
 * storage given) set before any page script reads them. bypassCSP: axe-core is injected as an
 * inline script, which the shop's CSP rightly forbids.
 */
export async function visit (browser: Browser, v: Visit): Promise<{ context: BrowserContext, page: Page }> {
  const context = await browser.newContext({ locale: v.locale === 'zh' ? 'zh-CN' : 'en-US', viewport: v.viewport, bypassCSP: true })
  const storage = { 'flash.locale': v.locale, ...v.storage }
  await context.addInitScript({
    content: Object.entries(storage).map(([key, value]) => `localStorage.setItem(${JSON.stringify(key)}, ${JSON.stringify(value)});`).join('') +
      (v.admin === true ? `sessionStorage.setItem('flash.adminToken', ${JSON.stringify(ADMIN_TOKEN)});` : '')
  })
  const page = await context.newPage()
  page.on('pageerror', (err) => v.errors.push(err.message))
  page.setDefaultTimeout(v.timeoutMs ?? 15_000)
  return { context, page }
}

/** Each context's requests in flight (live streams aside, which stay open), for `settled`. */
const inFlight = new WeakMap<BrowserContext, Set<Request>>()

function trackRequests (context: BrowserContext): void {
  const open = new Set<Request>()
  inFlight.set(context, open)
  context.on('request', (request) => { if (request.resourceType() !== 'eventsource') open.add(request) })
  // A stream read with fetch (the admin's live feed) is a fetch to Chromium: known by its answer's type.
  context.on('response', (response) => {
    if (response.headers()['content-type']?.startsWith('text/event-stream') === true) open.delete(response.request())
  })
  context.on('requestfinished', (request) => { open.delete(request) })
  context.on('requestfailed', (request) => { open.delete(request) })
}

/**
 * Resolves once the page has had no request in flight for `quietMs`: it has what it asked for and has
 * drawn it (a page that keeps polling has quiet gaps too). The default outlasts the search fields'
 * 250 ms debounce, so a search typed just before is asked and answered first. Bounded: after `maxMs`
 * it resolves anyway and the test's own assertions say what is missing.
 */
export async function settled (page: Page, quietMs = 400, maxMs = 5000): Promise<void> {
  const open = inFlight.get(page.context())
  if (open === undefined) throw new Error('settled: the page\'s context was not made by launchBrowser\'s browser')
  const deadline = Date.now() + maxMs
  let quietSince = Date.now()
  while (Date.now() < deadline) {
    if (open.size > 0) quietSince = Date.now()
    else if (Date.now() - quietSince >= quietMs) return
    await sleep(25)
  }
}

/** Asserts the page does not scroll sideways (its document, its body): nothing is cut off on a phone. */
export async function noHorizontalOverflow (t: Pick<Test, 'ok'>, page: Page, label: string): Promise<void> {
  const sizes = await page.evaluate<{ scroll: number, client: number, body: number }>(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, body: document.body.scrollWidth })')
  t.ok(sizes.scroll <= sizes.client && sizes.body <= sizes.client, `${label}: no horizontal overflow (${JSON.stringify(sizes)})`)
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
