// Paying within the hold, the shop's side, in a real Chromium at phone and desktop width,
// Chinese and English: the checkout shows the hold's countdown, offers the sandbox's test cards, and
// shows processing, declined (pay again while the hold lasts), paid, expired and refunded.
//
// The order and payment answers follow the payment contract (docs in the lead's payment-service) and
// are served by page.route from an in-memory provider here, so every outcome, including the slow
// ones (a hold expiring), is reached in seconds; the shop's assets come from the real nginx.
// BASE_URL (default http://127.0.0.1:8080). Screenshots: test-results/screenshots/pay-*.png.
import t from 'tap'
import { join } from 'node:path'
import { type Browser, type BrowserContext, type Page, type Route } from 'playwright-core'
import { sleep } from '@flash/common'
import { BASE_URL, DESKTOP, PHONE, SCREENSHOTS, api, launchBrowser, seriousViolations, visit } from './support.ts'

const ORDER_ID = '01KBPAYTEST0000000000000000'.slice(0, 26)
const RECEIPT = 'rcpt-test-1'

interface FakeOrder {
  orderId: string; productId: number; productName: string; quantity: number; userId: null; buyerName: null
  status: string; reason: string | null; createdAt: string; updatedAt: string
  payBy: string | null; amount: number | null; currency: string | null; paymentStatus: string | null
}

/** The gateway's order and the payment-service, as the contract says, in memory. */
class FakeProvider {
  order: FakeOrder
  paymentStatus = 'requires_payment'
  readonly requests: string[] = []
  constructor (holdMs: number) {
    const now = new Date()
    this.order = {
      orderId: ORDER_ID, productId: 1, productName: 'Pay test tea', quantity: 2, userId: null, buyerName: null,
      status: 'awaiting_payment', reason: null, createdAt: now.toISOString(), updatedAt: now.toISOString(),
      payBy: new Date(now.getTime() + holdMs).toISOString(), amount: 2468, currency: 'cny', paymentStatus: 'unpaid',
    }
  }

  payment (): Record<string, unknown> {
    return { paymentId: 'pay_test_1', orderId: ORDER_ID, status: this.paymentStatus, amount: 2468, currency: 'cny', payBy: this.order.payBy, sandbox: true }
  }

  async handle (route: Route): Promise<void> {
    const request = route.request()
    const url = new URL(request.url())
    this.requests.push(`${request.method()} ${url.pathname}`)
    const json = (status: number, body: unknown) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) })
    if (url.pathname === '/api/payments/config') return json(200, CONFIG)
    if (request.headers()['x-order-receipt'] !== RECEIPT) return json(404, { code: 'ORDER_NOT_FOUND', message: 'order not found' })
    if (url.pathname === `/api/orders/${ORDER_ID}`) return json(200, this.order)
    if (url.pathname === '/api/payments' && request.method() === 'POST') {
      if (this.order.status !== 'awaiting_payment') return json(409, { code: 'ORDER_NOT_PAYABLE', message: 'not payable', status: this.order.status })
      return json(200, { ...this.payment(), clientSecret: 'pi_secret' })
    }
    if (url.pathname === '/api/payments/pay_test_1') return json(200, this.payment())
    if (url.pathname === '/api/payments/pay_test_1/sandbox-confirm') {
      const method = (request.postDataJSON() as { paymentMethod: string }).paymentMethod
      this.paymentStatus = 'processing'
      // The provider's event arrives a moment later, as a webhook would.
      setTimeout(() => {
        if (method === 'pm_card_visa') {
          this.paymentStatus = 'succeeded'
          this.order = { ...this.order, status: 'paid', paymentStatus: 'paid' }
        } else {
          this.paymentStatus = 'declined'
          this.order = { ...this.order, paymentStatus: 'declined' }
        }
      }, 1200)
      return json(202, { paymentId: 'pay_test_1', status: 'processing' })
    }
    return json(404, { code: 'NOT_FOUND', message: 'no such route' })
  }
}

const CONFIG = {
  sandbox: true,
  currency: 'cny',
  testCards: [
    { paymentMethod: 'pm_card_visa', outcome: 'succeeds', label: 'Visa 4242' },
    { paymentMethod: 'pm_card_chargeDeclined', outcome: 'declined', label: 'Visa 0002 (declined)' },
  ],
}

let browser: Browser
const pageErrors: string[] = []

t.before(async () => {
  browser = await launchBrowser()
})
t.after(async () => {
  await browser?.close()
})

async function checkoutPage (locale: 'zh' | 'en', viewport: typeof PHONE, provider: FakeProvider): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await visit(browser, { locale, viewport, storage: { 'flash.receipts': JSON.stringify({ [ORDER_ID]: RECEIPT }) }, errors: pageErrors })
  await context.route(/\/api\/(orders\/[0-9A-Z]{26}|payments)(\/|$)/, (route) => provider.handle(route))
  await page.goto(`${BASE_URL}/pay/${ORDER_ID}`)
  return { context, page }
}

const TEXT = {
  zh: { held: '已为您保留 2 件“Pay test tea”', pay: '支付 ¥24.68', declined: '银行卡被拒绝', paid: '支付成功，订单已完成', expired: '未在规定时间内支付', refunded: '已退款' },
  en: { held: '2 × Pay test tea is held for you', pay: 'Pay CN¥24.68', declined: 'The card was declined', paid: 'Paid. Your order is complete.', expired: 'Not paid in time', refunded: 'Refunded' },
} as const

for (const locale of ['zh', 'en'] as const) {
  for (const [width, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    t.test(`${locale} ${width}: the hold counts down; a declined card is tried again, then the order is paid`, async (t) => {
      const provider = new FakeProvider(5 * 60_000)
      const { context, page } = await checkoutPage(locale, viewport, provider)
      const text = TEXT[locale]
      const checkout = page.getByTestId('checkout')
      await t.resolves(page.getByTestId('pay-status').getByText(text.held).waitFor(), 'the hold is explained')
      const first = await page.getByTestId('pay-countdown').textContent()
      t.match(first, /^0?4:5\d$|^0?5:00$/, `the countdown shows the time left (${first})`)
      await page.waitForTimeout(1300)
      t.not(await page.getByTestId('pay-countdown').textContent(), first, 'and ticks')
      t.equal(await page.getByTestId('pay-amount').textContent(), text.pay.replace(/^\S+ /, ''), 'the amount in the order\'s currency')
      const violations = await seriousViolations(page)
      t.same(violations, [], `axe: no serious or critical violation on the checkout ${violations.join('; ')}`)
      await page.screenshot({ path: join(SCREENSHOTS, `pay-held-${locale}-${width}.png`), fullPage: true })

      await page.getByTestId('pay-declined').click()
      await t.resolves(checkout.and(page.locator('[data-phase="processing"]')).waitFor(), 'processing while the provider answers')
      await t.resolves(page.getByTestId('pay-status').getByText(text.declined).waitFor(), 'the decline is shown')
      await t.resolves(page.getByTestId('pay-countdown').waitFor(), 'with the hold still counting down')
      await page.screenshot({ path: join(SCREENSHOTS, `pay-declined-${locale}-${width}.png`), fullPage: true })

      const payButton = page.getByTestId('pay-succeeds')
      t.match(await payButton.textContent(), text.pay, 'the card that pays is offered again')
      const box = await payButton.boundingBox()
      t.ok(box !== null && box.x >= 0 && box.x + box.width <= viewport.width, 'and is fully on screen')
      await payButton.click()
      await t.resolves(page.getByTestId('pay-status').getByText(text.paid).waitFor(), 'then paid')
      t.equal(await page.getByTestId('pay-choices').count(), 0, 'nothing more to pay')
      t.equal(await page.getByTestId('pay-countdown').count(), 0, 'and no countdown')
      await page.screenshot({ path: join(SCREENSHOTS, `pay-paid-${locale}-${width}.png`), fullPage: true })
      const payments = provider.requests.filter((r) => r.startsWith('POST'))
      t.same(payments, [
        'POST /api/payments', 'POST /api/payments/pay_test_1/sandbox-confirm',
        'POST /api/payments', 'POST /api/payments/pay_test_1/sandbox-confirm',
      ], 'one payment opened (again) and confirmed per try')
      const reads = provider.requests.length
      await page.waitForTimeout(2500)
      t.ok(provider.requests.length <= reads + 1, 'a paid order is not polled any more')
      await context.close()
    })
  }
}

t.test('a hold that runs out: the countdown ends, the server says expired, nothing can be paid', async (t) => {
  const provider = new FakeProvider(3000)
  const { context, page } = await checkoutPage('zh', PHONE, provider)
  await page.getByTestId('pay-succeeds').waitFor()
  await t.resolves(page.locator('[data-test="checkout"][data-phase="expiring"]').waitFor({ timeout: 8000 }), 'time is up on the server clock')
  t.equal(await page.getByTestId('pay-choices').count(), 0, 'no card offered once the hold is over')
  provider.order = { ...provider.order, status: 'expired' }
  await t.resolves(page.getByTestId('pay-status').getByText(TEXT.zh.expired).waitFor(), 'expired, said in Chinese')
  await page.screenshot({ path: join(SCREENSHOTS, 'pay-expired-zh-phone.png'), fullPage: true })
  await context.close()
})

t.test('a paid order withdrawn is refunded; a refusal of the payment is translated', async (t) => {
  const provider = new FakeProvider(60_000)
  provider.order = { ...provider.order, status: 'cancelled', paymentStatus: 'refunded' }
  const { context, page } = await checkoutPage('en', PHONE, provider)
  await t.resolves(page.getByTestId('pay-status').getByText(TEXT.en.refunded).waitFor(), 'refunded')
  await page.screenshot({ path: join(SCREENSHOTS, 'pay-refunded-en-phone.png'), fullPage: true })
  await context.close()

  // The order expired between the page's last read and the click: 409 ORDER_NOT_PAYABLE.
  const racing = new FakeProvider(60_000)
  const second = await checkoutPage('zh', PHONE, racing)
  await second.page.getByTestId('pay-succeeds').waitFor()
  racing.order = { ...racing.order, status: 'expired' }
  await second.page.getByTestId('pay-succeeds').click()
  await t.resolves(second.page.getByTestId('banner').getByText('该订单当前已无需支付').waitFor(), 'the refusal in Chinese, not the server\'s English')
  await t.resolves(second.page.getByTestId('pay-status').getByText(TEXT.zh.expired).waitFor(), 'and the order\'s state')
  await second.context.close()
})

// --- the real stack: gateway, processor, payment-service in sandbox mode, stripe-mock ---------------

const RUN = Date.now().toString(36)
interface StoredOrder { orderId: string; status: string; paymentStatus: string | null; amount: number | null }

async function until<T> (what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last = await probe()
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
    await sleep(300)
    last = await probe()
  }
  return last
}

async function shopper (locale: 'zh' | 'en', viewport: typeof PHONE): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: locale === 'zh' ? 'zh-CN' : 'en-US', viewport, bypassCSP: true })
  await context.addInitScript((lang) => { if (localStorage.getItem('flash.locale') === null) localStorage.setItem('flash.locale', lang) }, locale)
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(err.message))
  page.setDefaultTimeout(30_000)
  return { context, page }
}

async function pricedProduct (name: string, paymentWindowSeconds: number): Promise<{ id: number }> {
  const res = await api<{ id: number }>('POST', '/products', { name, stock: 5, price: 1234, paymentWindowSeconds }, true)
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.body
}

t.test('real stack, a guest on a phone: Buy holds the units, the card counts down, a declined card, then paid', async (t) => {
  const product = await pricedProduct(`Pay ${RUN}`, 120)
  const { context, page } = await shopper('zh', PHONE)
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(`Pay ${RUN}`)
  const card = page.locator(`[data-test="product-card"][data-product-id="${product.id}"]`)
  await card.getByTestId('buy').click()
  const payLink = card.getByTestId('pay-link')
  await t.resolves(payLink.waitFor(), 'the card offers to pay once the units are held')
  t.match(await payLink.textContent(), /去支付 · 0[12]:\d\d/, 'with the hold\'s countdown')
  t.match(await card.getByTestId('outcome').textContent(), /已为您保留/, 'the hold is explained at the button')
  t.equal(await page.getByTestId('toast').count(), 0, 'no toast covers the next row: the news is at the button')
  await page.screenshot({ path: join(SCREENSHOTS, 'pay-shop-held-zh-phone.png'), fullPage: true })

  await payLink.click()
  await page.getByTestId('pay-declined').click()
  await t.resolves(page.getByTestId('pay-status').getByText('银行卡被拒绝').waitFor(), 'the sandbox declines the test card')
  await page.getByTestId('pay-succeeds').click()
  await t.resolves(page.getByTestId('pay-status').getByText('支付成功').waitFor({ timeout: 60_000 }), 'then pays')
  const orderId = page.url().split('/pay/')[1] ?? ''
  const stored = await api<StoredOrder>('GET', `/orders/${orderId}`, undefined, true)
  t.match(stored.body, { orderId, status: 'paid', paymentStatus: 'paid', amount: 1234 }, 'the gateway has it paid')
  const sales = await api<{ items: { unitsPaid: number; unitsHeld: number }[] }>('GET', `/orders/sales?productId=${product.id}`, undefined, true)
  t.match(sales.body.items[0], { unitsPaid: 1, unitsHeld: 0 }, 'the sales count the unit paid')

  // The shop's card follows: paid, in Chinese.
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(`Pay ${RUN}`)
  await t.resolves(card.getByTestId('outcome').getByText('支付成功').waitFor(), 'the card says paid after a reload')
  await context.close()
})

t.test('real stack, English: an unpaid hold expires and its units go back on sale', async (t) => {
  const product = await pricedProduct(`Expire ${RUN}`, 5)
  const { context, page } = await shopper('en', DESKTOP)
  await page.goto(`${BASE_URL}/`)
  await page.getByTestId('search').fill(`Expire ${RUN}`)
  const card = page.locator(`[data-test="product-card"][data-product-id="${product.id}"]`)
  await card.getByTestId('buy').click()
  await card.getByTestId('pay-link').click()
  await t.resolves(page.getByTestId('pay-countdown').waitFor(), 'the checkout counts down')
  await t.resolves(page.getByTestId('pay-status').getByText('Not paid in time').waitFor({ timeout: 60_000 }), 'then the order expires')
  await page.screenshot({ path: join(SCREENSHOTS, 'pay-expired-en-desktop.png'), fullPage: true })
  const stock = await until('the units back on sale', () => api<{ stock: number }>('GET', `/products/${product.id}`, undefined, true), (r) => r.body.stock === 5)
  t.equal(stock.body.stock, 5, 'stock back to 5')
  await context.close()
})

t.test('no page threw an uncaught error', async (t) => {
  t.same(pageErrors, [])
  await browser.close()
})
