// Every page of the shop at 360, 390 and 1280 px, in both languages, as the admin (who sees them all),
// with the widest content the pages carry (a long name without breaks, a sale window, a buyer's
// limit): nothing scrolls sideways, and each page is photographed.
//
// BASE_URL (default http://localhost:8080). Screenshots: test-results/screenshots/layout-*.png.
import t from 'tap'
import { join } from 'node:path'
import { type Browser } from 'playwright-core'
import { BASE_URL, DESKTOP, NARROW, PHONE, SCREENSHOTS, api, launchBrowser, noHorizontalOverflow, settled, visit } from './support.ts'

const RUN = `wide${Date.now().toString(36)}` // short: the widest name below must stay within the 200 characters a name may have

let browser: Browser
const pageErrors: string[] = []
t.before(async () => { browser = await launchBrowser() })
t.teardown(async () => { await browser?.close() })

t.test('no page scrolls sideways at 360 or 390 px, in either language; every page photographed', async (t) => {
  // A long name, a product with a window: the widest content the pages carry.
  const created = await api('POST', '/products', { price: 0, name: `${RUN} ${'很长的商品名称'.repeat(12)} ${'averyveryverylongwordwithoutbreaks'.repeat(3)}`, stock: 7, perUserLimit: 2, saleStartsAt: new Date(Date.now() + 86_400_000).toISOString() }, true)
  t.equal(created.status, 201, 'the widest product is created')
  for (const locale of ['en', 'zh'] as const) {
    for (const viewport of [NARROW, PHONE, DESKTOP]) {
      const { context, page } = await visit(browser, { locale, viewport, admin: true, storage: { 'flash.hideSoldOut': '0' }, errors: pageErrors })
      for (const [name, path] of [['shop', '/'], ['orders', '/orders'], ['admin', '/admin'], ['simulator', '/simulator']] as const) {
        await page.goto(`${BASE_URL}${path}`)
        if (name === 'shop') await page.getByTestId('search').fill(RUN)
        if (name === 'admin') await page.getByTestId('admin-search').fill(RUN).catch(() => {})
        await settled(page)
        if (viewport.width < 1000) await noHorizontalOverflow(t, page, `${name} ${locale} ${viewport.width}px`)
        await page.screenshot({ path: join(SCREENSHOTS, `layout-${name}-${locale}-${viewport.width}.png`), fullPage: true })
      }
      await context.close()
    }
  }
})

t.test('no page threw an uncaught error', async (t) => {
  t.same(pageErrors, [])
})
