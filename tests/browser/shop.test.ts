// The front end in a real browser, against the real stack behind nginx: an admin creates a
// product, a buyer buys it and sees `confirmed`, stock falls live, the order is withdrawn and the
// units come back, the flash-sale simulator finds no oversell, and the UI speaks Chinese.
// Every outcome is asserted in the UI and again through the API.
//
// BASE_URL (default http://127.0.0.1:8080), ADMIN_TOKEN (default the local value of .env.example).
// The buyer here shops as a guest: its Orders page follows the receipts this tab kept, and
// the API checks read orders with the admin token. tests/browser/auth.test.ts covers signed-in buyers.
// Screenshots of every page, desktop and phone width: test-results/screenshots/.
import t from 'tap'
import { join } from 'node:path'
import { sleep } from '@flash/common'
import { type Browser, type BrowserContext, type Page } from 'playwright-core'
import { ADMIN_TOKEN, BASE_URL, DESKTOP, PHONE, SCREENSHOTS, api, launchBrowser } from './support.ts'

const RUN = Date.now().toString(36)

interface Product { id: number; name: string; price: number; stock: number; imageUrl: string | null; perUserLimit: number | null; status: string }
interface Order { orderId: string; productId: number; quantity: number; status: string; reason: string | null }
interface Page_<T> { items: T[]; total: number }

/** The product as the catalog has it now: the admin token bypasses nginx's 1 s micro-cache. */
async function product (id: number): Promise<Product> {
  const res = await api<Product>('GET', `/products/${id}`, undefined, true)
  if (res.status !== 200) throw new Error(`GET /products/${id} answered ${res.status}`)
  return res.body
}

async function until<T> (what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T = await probe()
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`)
    await sleep(250)
    last = await probe()
  }
  return last
}

// How long an open page may take to show a stock change: a 1 s poll behind nginx's 1 s micro-cache,
// about 2 s, with room for a loaded machine (a 3 s bound failed at load average 20). A freshness
// bound, not a speed measurement.
const LIVE_MS = 10_000

/** Desktop and phone shots of the page as it is now (same tab: sessionStorage's admin token stays). */
async function screenshot (page: Page, name: string): Promise<void> {
  for (const [label, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(viewport)
    await page.waitForTimeout(400)
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true })
  }
  await page.setViewportSize(DESKTOP)
}

let browser: Browser
let context: BrowserContext
let page: Page
const pageErrors: string[] = []

t.before(async () => {
  browser = await launchBrowser()
  context = await browser.newContext({ locale: 'en-US', viewport: DESKTOP })
  page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(err.message))
  page.setDefaultTimeout(15_000)
})

// The root test's after() only runs once the event loop is idle, which an open browser prevents:
// the last subtest closes it, and this is the fallback when the run is cut short.
t.after(async () => {
  await browser?.close()
})

let created: Product
let orderId: string

t.test('an admin signs in once and creates a product; the form checks input like the API', async (t) => {
  await page.goto(`${BASE_URL}/admin`)
  await page.getByTestId('admin-token').fill('wrong-token')
  await page.getByTestId('admin-sign-in').click()
  await t.resolves(page.getByTestId('login-error').getByText('admin token is wrong').waitFor(), 'a 403 reads as a message')

  await page.getByTestId('admin-token').fill(ADMIN_TOKEN)
  await page.getByTestId('admin-sign-in').click()
  await page.getByTestId('create-product').waitFor()
  t.equal(await page.evaluate('sessionStorage.getItem("flash.adminToken")'), ADMIN_TOKEN, 'token kept in sessionStorage')
  t.equal(await page.evaluate('localStorage.getItem("flash.adminToken")'), null, 'and not in localStorage')

  // Client-side validation: nothing is sent until the fields are valid.
  const form = page.getByTestId('create-product')
  await form.getByTestId('form-stock').fill('1.5')
  await form.getByTestId('form-image').fill('ftp://example.com/x.png')
  await form.getByTestId('form-submit').click()
  await t.resolves(form.getByText('Name is required.').waitFor(), 'empty name refused')
  await t.resolves(form.getByText('whole number from 0 to 1000000').waitFor(), 'fractional stock refused')
  await t.resolves(form.getByText('http(s) URL').waitFor(), 'non-http image URL refused')

  const name = `Browser ${RUN} <b>bold</b>`
  await form.getByTestId('form-name').fill(name)
  await form.getByTestId('form-price').fill('12.34')
  await form.getByTestId('form-stock').fill('20')
  const imageUrl = `${BASE_URL}/favicon.svg`
  await form.getByTestId('form-image').fill(imageUrl)
  await form.getByTestId('form-submit').click()
  const banner = page.getByTestId('banner').filter({ hasText: 'Created “' })
  await banner.waitFor()
  const id = Number(/#(\d+)/.exec((await banner.textContent()) ?? '')?.[1])
  t.ok(Number.isInteger(id) && id > 0, `created product #${id}`)

  created = await product(id)
  t.match(created, { name, price: 1234, stock: 20, imageUrl, perUserLimit: null, status: 'active' }, 'the API has it as entered')
  await page.getByTestId('admin-search').fill(RUN)
  const row = page.locator(`[data-test="admin-product-row"][data-product-id="${id}"]`)
  await t.resolves(row.getByText(name, { exact: true }).waitFor(), 'listed in admin, HTML shown as text')

  // Restock through the UI, then check the API.
  await row.getByTestId('restock-qty').fill('5')
  await row.getByTestId('restock').click()
  await page.getByTestId('banner').filter({ hasText: `(#${id}) now has 25 in stock` }).waitFor()
  t.equal((await product(id)).stock, 25, 'restocked to 25')

  await t.resolves(page.getByTestId('reconcile').getByTestId('reconcile-summary').waitFor(), 'the reconciliation report shows')
  await screenshot(page, 'admin')
})

t.test('a buyer buys in the shop and sees the units held for payment while the stock falls live', async (t) => {
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(RUN)
  const card = page.locator(`[data-test="product-card"][data-product-id="${created.id}"]`)
  await card.waitFor()
  t.equal(await card.getByTestId('product-name').textContent(), created.name, 'name with HTML rendered as text')
  t.equal(await card.locator('b').count(), 0, 'no element was made from the product name')
  // The page may have read the product a moment before the restock reached it (the shop's reads are
  // cached for a second): it shows the new stock at its next poll.
  await card.getByTestId('stock').filter({ hasText: /^25$/ }).waitFor({ timeout: 10_000 }).catch(() => {})
  t.equal(await card.getByTestId('stock').textContent(), '25')
  t.equal(await card.locator('img').getAttribute('src'), created.imageUrl, 'the product image is shown')

  await card.getByTestId('quantity').selectOption('2')
  await card.getByTestId('buy').click()
  // A priced product: the units are held for the buyer until payBy; tests/browser/pay.test.ts pays.
  const fate = page.getByTestId('order-fate').first()
  await fate.locator('[data-status="awaiting_payment"]').waitFor({ timeout: 60_000 })
  orderId = (await fate.getAttribute('data-order-id')) ?? ''
  t.ok(orderId !== '', `order ${orderId} shown as awaiting payment`)
  await t.resolves(card.getByTestId('stock').getByText('23', { exact: true }).waitFor({ timeout: LIVE_MS }), 'stock fell to 23 without a reload')

  const order = await api<Order>('GET', `/orders/${orderId}`, undefined, true)
  t.match(order.body, { orderId, productId: created.id, quantity: 2, status: 'awaiting_payment', amount: 2468 }, 'the API agrees: 2 units held, ¥24.68 to pay')
  t.equal((await product(created.id)).stock, 23, 'the API agrees: 23 left')

  // A double click is one purchase: the button is disabled while its request is in flight.
  const before = await page.getByTestId('order-fate').count()
  await card.getByTestId('quantity').selectOption('1')
  await card.getByTestId('buy').dblclick()
  await page.getByTestId('order-fate').first().locator('[data-status="awaiting_payment"]').waitFor({ timeout: 60_000 })
  await page.waitForTimeout(500)
  t.equal(await page.getByTestId('order-fate').count(), before + 1, 'a double click placed one order')
  t.equal((await product(created.id)).stock, 22, 'and took one unit')

  // A double click slower than the order: its second click lands after the answer enabled the button
  // again, and still buys nothing (a local stack answers faster than people double-click).
  const beforeSlow = await page.getByTestId('order-fate').count()
  const button = card.getByTestId('buy')
  const box = (await button.boundingBox())!
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2)
  await until('the first click\'s order shown', () => page.getByTestId('order-fate').count(), (n) => n === beforeSlow + 1)
  await until('the button enabled again', () => button.isEnabled(), (enabled) => enabled)
  await page.mouse.down({ clickCount: 2 }) // the second click of a double click (the event's detail is 2)
  await page.mouse.up({ clickCount: 2 })
  await page.waitForTimeout(1500)
  t.equal(await page.getByTestId('order-fate').count(), beforeSlow + 1, 'a double click answered between its clicks placed one order')
  t.equal((await product(created.id)).stock, 21, 'and took one unit')

  // Stock sold elsewhere shows up in the open page within about a second.
  const outside = await api<{ orderId: string }>('POST', '/orders', { productId: created.id, quantity: 3 })
  t.equal(outside.status, 202, 'an order placed through the API is accepted')
  await t.resolves(card.getByTestId('stock').getByText('18', { exact: true }).waitFor({ timeout: LIVE_MS }), 'the open shop page shows 18 without a reload')
  await screenshot(page, 'shop')
})

t.test('the buyer withdraws the order in Orders and the units return', async (t) => {
  await page.goto(`${BASE_URL}/orders`)
  const row = page.locator(`[data-test="order-row"][data-order-id="${orderId}"]`)
  await row.locator('[data-status="awaiting_payment"]').waitFor()
  await screenshot(page, 'orders')
  const stockBefore = (await product(created.id)).stock

  await row.getByTestId('withdraw').click()
  const dialog = page.getByTestId('confirm-dialog')
  await t.resolves(dialog.getByText(orderId).waitFor(), 'a confirmation names the order')
  await dialog.getByTestId('confirm-ok').click()
  await t.resolves(row.locator('[data-status="cancelled"]').waitFor({ timeout: 60_000 }), 'the row follows the cancellation')

  const order = await api<Order>('GET', `/orders/${orderId}`, undefined, true)
  t.equal(order.body.status, 'cancelled', 'the API says cancelled')
  const after = await until('units to return', () => product(created.id), (p) => p.stock === stockBefore + 2)
  t.equal(after.stock, stockBefore + 2, 'its 2 units are back on sale')

  await page.getByTestId('status-filter').selectOption('cancelled')
  await t.resolves(row.waitFor(), 'the status filter shows it under cancelled')
  await page.getByTestId('status-filter').selectOption('awaiting_payment')
  await t.resolves(row.waitFor({ state: 'detached' }), 'and not under awaiting payment')

  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(RUN)
  const stock = page.locator(`[data-test="product-card"][data-product-id="${created.id}"]`).getByTestId('stock')
  await t.resolves(stock.getByText(String(after.stock), { exact: true }).waitFor(), 'the shop shows the returned units')
})

t.test('the simulator runs on a product of its own, finds no oversell, and archives it', async (t) => {
  // The admin signed in above (same tab): the simulator is in the menu for the admin only.
  await page.goto(`${BASE_URL}/simulator`)
  await page.getByTestId('sim-units').fill('5')
  await page.getByTestId('sim-buyers').fill('15')
  await page.getByTestId('sim-concurrency').fill('5')
  await page.getByTestId('sim-start').click()
  const verdict = page.getByTestId('sim-verdict')
  await verdict.waitFor({ timeout: 120_000 })
  const simId = Number(/#(\d+)/.exec((await page.getByTestId('sim-product-id').textContent()) ?? '')?.[1])
  t.ok(simId > 0, `the run sold its own product #${simId}`)
  t.equal(await verdict.getAttribute('data-ok'), 'true', 'verdict: invariants hold')
  await t.resolves(verdict.getByText('No oversell').waitFor(), 'the verdict says no oversell')
  t.equal(await page.getByTestId('sim-sent').textContent(), '15', '15 buyers fired')
  t.equal(await verdict.getByTestId('verdict-oversold').textContent(), '0', 'oversold 0')
  const accepted = Number(await page.getByTestId('sim-accepted').textContent())
  const soldOut = Number(await page.getByTestId('sim-sold-out').textContent())
  t.ok(accepted <= 5, `accepted ${accepted} ≤ 5 units`)
  t.equal(accepted + soldOut + Number(await page.getByTestId('sim-failed').textContent()), 15, 'every buyer got an answer')
  const shownConfirmed = Number(await verdict.getByTestId('verdict-confirmed').textContent())

  // The API's view: confirmed units = units the product lost, never more than were on sale.
  const confirmed = await api<Page_<Order>>('GET', `/orders?productId=${simId}&status=confirmed&pageSize=100`, undefined, true)
  t.equal(confirmed.status, 200, `GET /orders?productId=${simId}&status=confirmed`, { body: confirmed.body })
  const confirmedUnits = confirmed.body.items.reduce((sum, o) => sum + o.quantity, 0)
  const sim = await until('the run\'s product archived', () => product(simId), (p) => p.status === 'archived')
  t.equal(confirmedUnits, shownConfirmed, 'the verdict counts what the API confirms')
  t.equal(confirmedUnits, 5 - sim.stock, 'confirmed units = units sold')
  t.match(sim, { name: /^\[SIM\] /, status: 'archived' }, 'the run\'s product is marked and archived afterwards')
  await screenshot(page, 'simulator')

  // The shop never shows it: it was not a product for shoppers.
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(sim.name)
  await t.resolves(page.getByTestId('shop-empty').waitFor(), 'the shop does not list the run\'s product')
})

t.test('the language switch shows the seed’s Chinese and sticks', async (t) => {
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('lang-switch').click()
  await t.resolves(page.getByTestId('nav-admin').getByText('库存管理').waitFor(), 'nav: 库存管理')
  await t.resolves(page.getByTestId('nav-orders').getByText('订单列表').waitFor(), 'nav: 订单列表')
  await page.reload()
  await t.resolves(page.getByTestId('nav-shop').getByText('商城').waitFor(), 'still Chinese after a reload')
  await page.getByTestId('search').fill(`Sim ${RUN}`)
  await t.resolves(page.getByText('已售罄').first().waitFor(), 'sold out reads 已售罄')
  await screenshot(page, 'shop-zh')
  await page.goto(`${BASE_URL}/orders`)
  await page.locator(`[data-test="order-row"][data-order-id="${orderId}"]`).waitFor()
  await screenshot(page, 'orders-zh')
  await page.getByTestId('lang-switch').click()
  await t.resolves(page.getByTestId('nav-admin').getByText('Admin').waitFor(), 'back to English')
})

t.test('no page threw an uncaught error', async (t) => {
  t.same(pageErrors, [])
  await browser.close()
})
