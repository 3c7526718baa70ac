// Every page of the shop scanned with axe-core in a real Chromium: 0 serious or critical WCAG 2.1 A/AA
// violations, in Chinese and English, at 1280 and 390 px, as a shopper (shop, a product, orders, a
// payment, the admin sign-in) and as the admin (products, simulator, orders); on the phone nothing
// scrolls sideways and every table fits; no animation runs forever (WCAG 2.2.2).
// BASE_URL (default http://127.0.0.1:8080). Screenshots: test-results/screenshots/shopper-*.png.
import t from 'tap'
import { join } from 'node:path'
import { type Browser } from 'playwright-core'
import { BASE_URL, DESKTOP, PHONE, SCREENSHOTS, api, launchBrowser, seriousViolations, settled, visit } from './support.ts'

const RUN = Date.now().toString(36)

let browser: Browser
const pageErrors: string[] = []
t.before(async () => { browser = await launchBrowser() })
t.teardown(async () => { await browser?.close() })

const created = await api<{ id: number }>('POST', '/products', { name: `${RUN} scanned tea`, stock: 50, price: 1234, originalPrice: 1999, paymentWindowSeconds: 600 }, true)
if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`)
const productId = created.body.id

t.test('axe-core: 0 serious or critical violations on every page, in both languages, at both widths', async (t) => {
  const held = await api<{ orderId: string; receipt: string }>('POST', '/orders', { productId, quantity: 1 })
  t.equal(held.status, 202, 'a guest\'s order to pay for')
  const receipts = JSON.stringify({ [held.body.orderId]: held.body.receipt })
  for (const locale of ['zh', 'en'] as const) {
    for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      for (const admin of [false, true]) {
        const { context, page } = await visit(browser, { locale, viewport, admin, errors: pageErrors, storage: { 'flash.receipts': receipts }, timeoutMs: 20_000 })
        const pages = admin ? ['/admin', '/simulator', '/orders'] : ['/', `/product/${productId}`, '/orders', `/pay/${held.body.orderId}`, '/admin']
        for (const path of pages) {
          await page.goto(`${BASE_URL}${path}`)
          await settled(page)
          const found = await seriousViolations(page)
          t.same(found, [], `${locale} ${width}${admin ? ' admin' : ''} ${path}: ${found.join('; ') || 'clean'}`)
          // WCAG 2.2.2, which axe cannot see: nothing blinks or moves on its own for good.
          const endless = await page.evaluate<string[]>('[...document.querySelectorAll(\'*\')].filter((e) => getComputedStyle(e).animationIterationCount.split(\',\').some((n) => n.trim() === \'infinite\')).map((e) => e.className || e.tagName)')
          t.same(endless, [], `${path}: no endless animation`)
          if (viewport === PHONE) {
            const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
            t.ok(Number(overflow) <= 0, `${path} does not scroll sideways`)
            const wide = await page.evaluate<string[]>('[...document.querySelectorAll(\'.table-wrap\')].filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => w.closest(\'[data-test]\')?.dataset.test ?? \'?\')')
            t.same(wide, [], `${path}: every table fits the phone (no last column off screen)`)
          }
          const name = `shopper-${path.split('/')[1] || 'shop'}${admin ? '-admin' : ''}-${locale}-${width}.png`
          await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true })
        }
        await context.close()
      }
    }
  }
})

t.test('no page threw an uncaught error', async (t) => {
  t.same(pageErrors, [])
})
