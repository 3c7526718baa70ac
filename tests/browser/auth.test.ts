// Buyers in a real browser, against the real stack behind nginx: register, sign in, buy,
// see the order in "My orders", sign out and the list is gone; a second browser context (another
// buyer) can neither see nor withdraw it. The session is httpOnly, SameSite=Strict cookies that
// page scripts cannot read; a broken access cookie is repaired by one refresh.
//
// BASE_URL (default http://127.0.0.1:8080), ADMIN_TOKEN (default the local value of .env.example),
// CHROMIUM_PATH (default /usr/bin/chromium-headless-shell). Screenshots: test-results/screenshots/auth-*.png.
import t from 'tap'
import { join } from 'node:path'
import { type Browser, type BrowserContext, type Page } from 'playwright-core'
import { ADMIN_TOKEN, BASE_URL, DESKTOP, SCREENSHOTS, api, launchBrowser } from './support.ts'

const RUN = Date.now().toString(36)
const PASSWORD = `pw-${RUN}-long-enough`

interface Order { orderId: string; productId: number; quantity: number; userId: string | null; buyerName: string | null; status: string }

/** What a page's own script gets back from the API (its cookies, same origin). */
async function pageFetch (page: Page, method: string, path: string): Promise<{ status: number; code: string | undefined }> {
  return page.evaluate(async ([m, p]) => {
    const res = await fetch(`/api${p}`, { method: m, credentials: 'same-origin' })
    const body = await res.json().catch(() => ({})) as { code?: string }
    return { status: res.status, code: body.code }
  }, [method, path] as const)
}

let browser: Browser
const contexts: BrowserContext[] = []
const pageErrors: string[] = []

async function newBuyerPage (): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: DESKTOP })
  contexts.push(context)
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(err.message))
  page.setDefaultTimeout(30_000)
  return page
}

async function signIn (page: Page, username: string, register: boolean): Promise<void> {
  if (!(await page.getByTestId('sign-in-form').isVisible())) await page.getByTestId('sign-in-open').click()
  await page.getByTestId('auth-username').fill(username)
  await page.getByTestId('auth-password').fill(PASSWORD)
  await page.getByTestId(register ? 'auth-register' : 'auth-login').click()
  await page.getByTestId('signed-in-as').getByText(username).waitFor()
}

t.before(async () => {
  browser = await launchBrowser()
})
t.after(async () => {
  await browser?.close()
})

let authProductId = 0

t.test('register, sign in, buy, see it in My orders, sign out and the list is gone; another buyer cannot see or withdraw it', async (t) => {
  const created = await api<{ id: number, name: string }>('POST', '/products', { name: `Auth ${RUN}`, stock: 10, price: 0, perUserLimit: 3 }, true)
  t.equal(created.status, 201, 'a product with a per-buyer limit')
  const product = created.body
  authProductId = product.id
  const alice = `alice_${RUN}`
  const bob = `bob.${RUN}`

  const a = await newBuyerPage()
  await a.goto(`${BASE_URL}/`)
  await a.getByTestId('guest-hint').waitFor()
  // A guest cannot buy a product with a per-buyer limit: the card says so before the click, and the
  // click opens the sign-in dialog instead of sending an order the gateway would refuse.
  await a.getByTestId('search').fill(`Auth ${RUN}`)
  const card = a.locator(`[data-test="product-card"][data-product-id="${product.id}"]`)
  await t.resolves(card.getByTestId('buy').getByText('Sign in to buy').waitFor(), 'a guest is asked to sign in before the click')
  await card.getByTestId('buy').click()
  await t.resolves(a.getByTestId('sign-in-form').waitFor(), 'and the click opens the sign-in dialog')
  t.equal(await a.getByTestId('order-fate').count(), 0, 'no order was sent')

  await signIn(a, alice, true)
  t.pass('registered and signed in')
  const cookies = await a.context().cookies()
  const access = cookies.find((c) => c.name === 'fs_access')
  const refresh = cookies.find((c) => c.name === 'fs_refresh')
  t.match(access, { httpOnly: true, sameSite: 'Strict', path: '/api' }, 'access cookie: httpOnly, SameSite=Strict, /api')
  t.match(refresh, { httpOnly: true, sameSite: 'Strict', path: '/api/auth' }, 'refresh cookie: only for /api/auth')
  t.equal(await a.evaluate('document.cookie'), '', 'page scripts cannot read the session')
  await a.reload()
  await t.resolves(a.getByTestId('signed-in-as').getByText(alice).waitFor(), 'still signed in after a reload')

  await a.getByTestId('search').fill(`Auth ${RUN}`)
  await card.getByTestId('quantity').selectOption('2')
  await card.getByTestId('buy').click()
  const fate = a.getByTestId('order-fate').first()
  await fate.locator('[data-status="confirmed"]').waitFor({ timeout: 60_000 })
  const orderId = (await fate.getAttribute('data-order-id')) ?? ''
  t.ok(orderId !== '', `order ${orderId} confirmed`)
  const stored = await api<Order>('GET', `/orders/${orderId}`, undefined, true)
  t.match(stored.body, { orderId, productId: product.id, quantity: 2, status: 'confirmed', buyerName: alice }, 'the order belongs to alice')
  t.match(stored.body.userId, /^\d+$/, 'by her buyer id')

  await a.getByTestId('nav-orders').click()
  await a.getByTestId('orders-mine').getByText(alice).waitFor()
  const row = a.locator(`[data-test="order-row"][data-order-id="${orderId}"]`)
  await t.resolves(row.locator('[data-status="confirmed"]').waitFor(), 'My orders lists it')
  await a.screenshot({ path: join(SCREENSHOTS, 'auth-my-orders.png'), fullPage: true })

  // A broken access cookie is answered 401 UNAUTHENTICATED; the app refreshes once and carries on.
  await a.context().addCookies([{ ...access!, value: 'not.a.token' }])
  await a.reload()
  await t.resolves(row.locator('[data-status="confirmed"]').waitFor(), 'the list still shows after a refresh of the session')
  const renewed = (await a.context().cookies()).find((c) => c.name === 'fs_access')
  t.not(renewed?.value, 'not.a.token', 'a new access cookie was issued')

  // Another buyer, in another browser context.
  const b = await newBuyerPage()
  await b.goto(`${BASE_URL}/orders`)
  await signIn(b, bob, true)
  await b.getByTestId('orders-mine').getByText(bob).waitFor()
  await t.resolves(b.getByTestId('orders-empty').waitFor(), 'bob lists no orders')
  t.equal(await b.locator(`[data-order-id="${orderId}"]`).count(), 0, 'and not alice\'s')
  t.same(await pageFetch(b, 'GET', `/orders/${orderId}`), { status: 404, code: 'ORDER_NOT_FOUND' }, 'bob reading it: 404')
  t.same(await pageFetch(b, 'DELETE', `/orders/${orderId}`), { status: 404, code: 'ORDER_NOT_FOUND' }, 'bob withdrawing it: 404')
  await b.screenshot({ path: join(SCREENSHOTS, 'auth-other-buyer.png'), fullPage: true })
  t.equal((await api<Order>('GET', `/orders/${orderId}`, undefined, true)).body.status, 'confirmed', 'still confirmed')

  // Alice signs out: her list is gone from the page, and the old refresh token no longer works.
  await a.getByTestId('sign-out').click()
  await a.getByTestId('sign-in-open').waitFor()
  await t.resolves(row.waitFor({ state: 'detached' }), 'the order list is gone after signing out')
  await a.getByTestId('orders-guest').waitFor()
  t.same(await pageFetch(a, 'GET', '/orders'), { status: 401, code: 'SIGN_IN_REQUIRED' }, 'the API lists nothing for the signed-out browser')
  t.same(await pageFetch(a, 'POST', '/auth/refresh'), { status: 401, code: 'UNAUTHENTICATED' }, 'no session to refresh')
  const replayed = await fetch(`${BASE_URL}/api/auth/refresh`, { method: 'POST', headers: { cookie: `fs_refresh=${refresh!.value}` } })
  t.equal(replayed.status, 401, 'the refresh token of the ended session is revoked')

  // Signing in again (login, not register) brings the order back, and alice can withdraw it.
  await signIn(a, alice, false)
  await row.locator('[data-status="confirmed"]').waitFor()
  await row.getByTestId('withdraw').click()
  await a.getByTestId('confirm-dialog').getByTestId('confirm-ok').click()
  await t.resolves(row.locator('[data-status="cancelled"]').waitFor({ timeout: 60_000 }), 'her withdrawal goes through')
  t.equal((await api<Order>('GET', `/orders/${orderId}`, undefined, true)).body.status, 'cancelled', 'the API says cancelled')
})

t.test('the admin\'s order list shows the buyer', async (t) => {
  const page = await newBuyerPage()
  // The admin token as the Admin page keeps it after signing in (shop.test.ts covers that page).
  await page.goto(`${BASE_URL}/`)
  await page.evaluate((token) => sessionStorage.setItem('flash.adminToken', token), ADMIN_TOKEN)
  // One product's orders: on a shared stack the newest page of everyone's orders may be anyone's.
  await page.goto(`${BASE_URL}/orders?productId=${authProductId}`)
  await page.getByTestId('product-filter').waitFor()
  await page.getByTestId('all-buyers').check()
  await t.resolves(page.getByTestId('order-buyer').getByText(`alice_${RUN}`).first().waitFor(), 'alice\'s order shows her name')
  await page.screenshot({ path: join(SCREENSHOTS, 'auth-admin-orders.png'), fullPage: true })
})

t.test('no page threw an uncaught error', async (t) => {
  t.same(pageErrors, [])
  for (const context of contexts) await context.close()
  await browser.close()
})
