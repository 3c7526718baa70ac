// The shop in a real Chromium, as a new shopper and an operator meet the shop: Chinese and English,
// 1280 and 390 px. Sign-in on a phone, guest orders kept across tabs and found by id + receipt,
// readable sign-up errors, admin errors at the action, blank price and restock bounds, order states
// explained with price and total, a product's own page ("已抢 n%", the buyer's limit), no failing
// auth call on a guest's page load (every page's axe-core scan: accessibility.test.ts).
// BASE_URL (default http://127.0.0.1:8080). Screenshots: test-results/screenshots/shopper-*.png.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { type Browser, type BrowserContext, type Page } from 'playwright-core'
import { BASE_URL, DESKTOP, PHONE, SCREENSHOTS, api, launchBrowser, registerAccount, seriousViolations, SIGN_UP_TIMEOUT_MS, visit } from './support.ts'

const RUN = Date.now().toString(36)
type Locale = 'zh' | 'en'
interface Product { id: number; name: string; stock: number }

let browser: Browser
const pageErrors: string[] = []

t.before(async () => {
  browser = await launchBrowser()
})
t.after(async () => {
  await browser?.close()
})

const open = async (locale: Locale, viewport: typeof PHONE, admin = false): Promise<{ context: BrowserContext; page: Page }> =>
  await visit(browser, { locale, viewport, admin, errors: pageErrors, timeoutMs: 20_000 })

async function postProduct (spec: Record<string, unknown>): Promise<Product> {
  const res = await api<Product>('POST', '/products', { price: 0, ...spec }, true)
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body
}

async function onScreen (t: Test, page: Page, selector: string, label: string): Promise<void> {
  const box = await page.locator(selector).first().boundingBox()
  const width = page.viewportSize()?.width ?? 0
  t.ok(box !== null && box.x >= 0 && box.x + box.width <= width + 0.5, `${label} is on screen (${JSON.stringify(box)})`)
}

const free = await postProduct({ name: `${RUN} free tea`, stock: 50 })
const limited = await postProduct({ name: `${RUN} limited tea`, stock: 50, perUserLimit: 3 })
const priced = await postProduct({ name: `${RUN} priced tea`, stock: 50, price: 1234, originalPrice: 1999, paymentWindowSeconds: 600 })

for (const locale of ['zh', 'en'] as const) {
  t.test(`${locale}, phone: the sign-in dialog is on screen, takes the focus, explains its rules and closes on Esc`, async (t) => {
    const { context, page } = await open(locale, PHONE)
    t.teardown(() => context.close())
    const authCalls: string[] = []
    page.on('response', (r) => { if (r.url().includes('/api/auth/') && r.status() >= 400) authCalls.push(`${r.status()} ${r.url()}`) })
    await page.goto(`${BASE_URL}/`)
    await page.getByTestId('product-card').first().waitFor()
    await page.waitForTimeout(500)
    t.same(authCalls, [], 'a guest\'s page load makes no failing auth call')

    await page.getByTestId('sign-in-open').click()
    await page.getByTestId('sign-in-form').waitFor()
    for (const field of ['auth-username', 'auth-password', 'auth-login', 'auth-rules']) await onScreen(t, page, `[data-test="${field}"]`, field)
    t.equal(await page.evaluate('document.activeElement?.dataset.test'), 'auth-username', 'the username field has the focus')
    const ruleColour = await page.evaluate<string>('getComputedStyle(document.querySelector(\'[data-test="auth-rules"]\')).color')
    t.not(ruleColour, 'rgb(255, 255, 255)', `the rules hint is readable (${ruleColour})`)
    t.same(await seriousViolations(page), [], 'axe: the open dialog has no serious or critical violation')
    await page.screenshot({ path: join(SCREENSHOTS, `shopper-sign-in-${locale}-phone.png`) })

    // The browser's own checks run before anything is sent; the server's refusals are translated.
    await page.getByTestId('auth-username').fill('ab')
    await page.getByTestId('auth-password').fill('short')
    await page.getByTestId('auth-register').click()
    t.equal(await page.getByTestId('auth-username').evaluate((el) => (el as unknown as { validity: { tooShort: boolean } }).validity.tooShort), true, 'a 2-letter name is stopped by the browser')
    t.same(authCalls, [], 'and nothing was sent')
    const taken = `taken_${RUN}_${locale}`
    t.equal(await registerAccount(taken, 'a-good-password'), 201, 'the name is taken by another account')
    await page.getByTestId('auth-username').fill(taken)
    await page.getByTestId('auth-password').fill('a-good-password')
    await page.getByTestId('auth-register').click()
    // (the form solves the sign-up's proof of work before it sends: SIGN_UP_TIMEOUT_MS)
    await t.resolves(page.getByTestId('auth-error').getByText(locale === 'zh' ? '该用户名已被占用' : 'This username is taken').waitFor({ timeout: SIGN_UP_TIMEOUT_MS }), 'a taken name, in the UI\'s language')

    await page.keyboard.press('Escape')
    await t.resolves(page.getByTestId('sign-in-form').waitFor({ state: 'detached' }), 'Esc closes the dialog')
    t.equal(await page.evaluate('document.activeElement?.dataset.test'), 'sign-in-open', 'and the focus returns to the button that opened it')
  })
}

t.test('a guest\'s orders are kept in the browser: another tab lists them, another device finds one by id and receipt', async (t) => {
  const { context, page } = await open('en', PHONE)
  t.teardown(() => context.close())
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(free.name)
  const card = page.locator(`[data-test="product-card"][data-product-id="${free.id}"]`)
  await card.getByTestId('buy').click()
  await card.getByTestId('outcome').and(page.locator('[data-status="confirmed"]')).waitFor({ timeout: 60_000 })
  const fate = page.getByTestId('order-fate').first()
  const orderId = (await fate.getAttribute('data-order-id')) ?? ''
  const receipt = ((await fate.getByTestId('order-receipt').textContent()) ?? '').replace(/^Receipt: /, '').trim()
  t.ok(orderId !== '' && receipt !== '', `order ${orderId}: its receipt is shown to the guest`)

  const other = await context.newPage()
  await other.goto(`${BASE_URL}/orders`)
  await t.resolves(other.locator(`[data-test="order-row"][data-order-id="${orderId}"]`).waitFor(), 'a new tab lists the guest order')
  await other.reload()
  await t.resolves(other.locator(`[data-test="order-row"][data-order-id="${orderId}"]`).waitFor(), 'and so does a reload')
  await other.screenshot({ path: join(SCREENSHOTS, 'shopper-guest-orders-en-phone.png'), fullPage: true })

  const elsewhere = await open('zh', DESKTOP)
  t.teardown(() => elsewhere.context.close())
  await elsewhere.page.goto(`${BASE_URL}/orders`)
  const lookup = elsewhere.page.getByTestId('lookup')
  await lookup.getByTestId('lookup-id').fill(orderId)
  await lookup.getByTestId('lookup-receipt').fill('not-the-receipt')
  await lookup.getByTestId('lookup-submit').click()
  await t.resolves(lookup.getByTestId('lookup-error').getByText('没有与该订单号和凭证匹配的订单').waitFor(), 'a wrong receipt finds nothing')
  await lookup.getByTestId('lookup-receipt').fill(receipt)
  await lookup.getByTestId('lookup-submit').click()
  await t.resolves(elsewhere.page.locator(`[data-test="order-row"][data-order-id="${orderId}"]`).waitFor(), 'the right one lists it on the other device')
})

t.test('orders: states explained, price and total shown, and the withdraw dialog focuses Cancel', async (t) => {
  const { context, page } = await open('zh', PHONE)
  t.teardown(() => context.close())
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(priced.name)
  const card = page.locator(`[data-test="product-card"][data-product-id="${priced.id}"]`)
  await card.getByTestId('quantity').selectOption('2')
  await card.getByTestId('buy').click()
  await card.getByTestId('pay-link').waitFor({ timeout: 60_000 })
  await page.goto(`${BASE_URL}/orders`)
  const row = page.getByTestId('order-row').first()
  await row.locator('[data-status="awaiting_payment"]').waitFor()
  t.equal((await row.getByTestId('order-price').textContent())?.trim(), '¥12.34', 'unit price')
  t.equal((await row.getByTestId('order-amount').textContent())?.trim(), '¥24.68', 'total')
  t.match(await row.getByTestId('order-hold').textContent(), /请在 \d\d:\d\d 内支付/, 'the hold\'s time left')
  await page.getByTestId('status-help').locator('summary').click()
  await t.resolves(page.getByTestId('status-help').getByText('商品已为您保留至显示的时间').waitFor(), 'what awaiting payment means')
  await row.getByTestId('withdraw').click()
  await page.getByTestId('confirm-dialog').waitFor()
  t.equal(await page.evaluate('document.activeElement?.dataset.test'), 'confirm-cancel', 'the harmless choice has the focus')
  await page.screenshot({ path: join(SCREENSHOTS, 'shopper-orders-zh-phone.png'), fullPage: true })
  await page.keyboard.press('Escape')
})

t.test('a product\'s own page: grabbed share, the buyer\'s limit and holding before the click, after a reload', async (t) => {
  const { context, page } = await open('zh', PHONE)
  t.teardown(() => context.close())
  const username = `shopper_${RUN}`
  await page.goto(`${BASE_URL}/product/${limited.id}`)
  await page.getByTestId('product-page').waitFor()
  await page.getByTestId('buy').click()
  await page.getByTestId('auth-username').fill(username)
  await page.getByTestId('auth-password').fill('a-good-password')
  await page.getByTestId('auth-register').click()
  await page.getByTestId('signed-in-as').waitFor({ timeout: SIGN_UP_TIMEOUT_MS })
  await page.getByTestId('buy').click()
  await page.getByTestId('outcome').and(page.locator('[data-status="confirmed"]')).waitFor({ timeout: 60_000 })
  await page.reload()
  await t.resolves(page.getByTestId('limit').getByText('限购3件·已购1').waitFor(), 'after a reload: limit 3, 1 bought, before any click')
  await t.resolves(page.getByTestId('grabbed').getByText(/已抢 \d+%/).waitFor(), 'the share already grabbed')
  t.equal(await page.getByTestId('quantity').locator('option').count(), 2, 'the picker offers what the limit leaves')
  await onScreen(t, page, '[data-test="buy"]', 'Buy')
  t.same(await seriousViolations(page), [], 'axe: the product page has no serious or critical violation')
  await page.screenshot({ path: join(SCREENSHOTS, 'shopper-product-zh-phone.png'), fullPage: true })
})

t.test('admin: a blank price and a restock past the maximum are refused at the field; a failed action is said at the row', async (t) => {
  const { context, page } = await open('en', PHONE, true)
  t.teardown(() => context.close())
  const full = await postProduct({ name: `${RUN} nearly full`, stock: 999_990 })
  await page.goto(`${BASE_URL}/admin`)
  const form = page.getByTestId('create-product')
  await form.getByTestId('form-name').fill(`${RUN} no price`)
  await form.getByTestId('form-stock').fill('5')
  await form.getByTestId('form-submit').click()
  await t.resolves(form.getByText('Enter a price (0 for a free product).').waitFor(), 'a blank price is refused, not a ¥0.00 product')

  await page.getByTestId('admin-search').fill(full.name)
  const row = page.locator(`[data-test="admin-product-row"][data-product-id="${full.id}"]`)
  await row.getByTestId('restock-qty').fill('11')
  await row.getByTestId('restock').click()
  await t.resolves(row.getByTestId('restock-error').getByText('from 1 to 10').waitFor(), 'no restock past 1,000,000 units')

  await page.route(/\/api\/products\/\d+\/restock/, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ code: 'SERVICE_UNAVAILABLE', message: 'busy' }) }))
  await row.getByTestId('restock-qty').fill('5')
  await row.getByTestId('restock').click()
  const error = row.getByTestId('row-error')
  await t.resolves(error.getByText('The service is busy').waitFor(), 'the failure is said in the row')
  const [errorBox, buttonBox] = [await error.boundingBox(), await row.getByTestId('restock').boundingBox()]
  t.ok(errorBox !== null && buttonBox !== null && Math.abs(errorBox.y - buttonBox.y) < 200, 'next to the button that failed')
  await page.unroute(/\/api\/products\/\d+\/restock/)

  // The edit dialog takes the focus and gives it back on Esc.
  await row.getByTestId('edit').click()
  await page.getByTestId('edit-dialog').waitFor()
  t.equal(await page.evaluate('document.activeElement?.dataset.test'), 'form-name', 'the edit dialog focuses its first field')
  await page.keyboard.press('Escape')
  await t.resolves(page.getByTestId('edit-dialog').waitFor({ state: 'detached' }), 'Esc closes it')
  t.equal(await page.evaluate('document.activeElement?.dataset.test'), 'edit', 'the focus is back on Edit')
  await page.screenshot({ path: join(SCREENSHOTS, 'shopper-admin-row-error-en-phone.png'), fullPage: true })
  await api('DELETE', `/products/${full.id}`, undefined, true)
})

t.test('an original price is shown crossed out next to the sale price (the catalog\'s originalPrice)', async (t) => {
  const { context, page } = await open('zh', PHONE)
  t.teardown(() => context.close())
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(priced.name)
  const card = page.locator(`[data-test="product-card"][data-product-id="${priced.id}"]`)
  await t.resolves(card.getByTestId('original-price').getByText('¥19.99').waitFor(), 'the original price, crossed out (<del>)')
  t.equal((await card.getByTestId('price').textContent())?.trim(), '¥12.34', 'beside the sale price')
  t.match(await card.getByTestId('original-price').textContent(), /原价/, 'and named for screen readers')
  await card.getByTestId('product-name').click()
  await t.resolves(page.getByTestId('original-price').getByText('¥19.99').waitFor(), 'on the product\'s page too')
  await page.screenshot({ path: join(SCREENSHOTS, 'shopper-original-price-zh-phone.png'), fullPage: true })
})

t.test('the simulator is not in a shopper\'s menu, and asks for the admin sign-in', async (t) => {
  const { context, page } = await open('en', DESKTOP)
  t.teardown(() => context.close())
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('nav-shop').waitFor()
  t.equal(await page.getByTestId('nav-simulator').count(), 0, 'no simulator in the shopper\'s menu')
  await page.goto(`${BASE_URL}/simulator`)
  await t.resolves(page.getByTestId('admin-login').waitFor(), '/simulator shows the admin sign-in')
  t.equal(await page.getByTestId('sim-start').count(), 0, 'and nothing to start')
})

t.test('keyboard: the first Tab reaches a skip link to the content, and the focus ring is visible', async (t) => {
  const { context, page } = await open('en', DESKTOP)
  t.teardown(() => context.close())
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('product-card').first().waitFor()
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate('document.activeElement?.dataset.test'), 'skip-link', 'the skip link comes first')
  await onScreen(t, page, '[data-test="skip-link"]', 'the focused skip link')
  await page.keyboard.press('Enter')
  t.equal(await page.evaluate('document.activeElement?.id'), 'main', 'Enter moves the focus to the content')
  await page.keyboard.press('Tab')
  const ring = await page.evaluate<{ width: number; style: string; colour: string }>(`(() => {
    const style = getComputedStyle(document.activeElement)
    return { width: parseFloat(style.outlineWidth), style: style.outlineStyle, colour: style.outlineColor }
  })()`)
  t.ok(ring.width >= 2 && ring.style !== 'none', `the focused element has a ring (${JSON.stringify(ring)})`)
})

t.test('no page threw an uncaught error', async (t) => {
  t.same(pageErrors, [])
  await browser.close()
})
