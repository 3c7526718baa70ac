// The operator's live sale view in a real browser, against the stack behind nginx (docs/ARCHITECTURE.md
// §11): the admin watches a product while buyers order it, and the simulator's own sale is drawn
// second by second — the numbers on the page move as the orders land. On a 390 px phone, in English
// and Chinese, axe-core clean, no sideways scroll.
//
// BASE_URL (default http://localhost:8080), ADMIN_TOKEN, CHROMIUM_PATH as the other browser tests.
// Screenshots: test-results/screenshots/live-*.png.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { type Browser, type Page } from 'playwright-core'
import { BASE_URL, PHONE, SCREENSHOTS, api, launchBrowser, seriousViolations, visit } from './support.ts'

const RUN = `live${Date.now().toString(36)}`
t.setTimeout(60_000)

let browser: Browser
const pageErrors: string[] = []
t.before(async () => { browser = await launchBrowser() })
t.teardown(async () => { await browser?.close() })

async function openPage (locale: 'en' | 'zh', path: string): Promise<Page> {
  const { page } = await visit(browser, { locale, viewport: PHONE, admin: true, errors: pageErrors })
  await page.goto(`${BASE_URL}${path}`)
  return page
}

/** A guest's order through nginx, retried with the same Idempotency-Key while it is told to retry. */
async function placeGuestOrder (productId: number): Promise<number> {
  const key = randomUUID()
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${BASE_URL}/api/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify({ productId, quantity: 1 })
    })
    await res.arrayBuffer()
    if ((res.status !== 429 && res.status !== 503) || attempt === 20) return res.status
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

interface Seen { stocks: Set<string>, accepted: number[] }

/**
 * Reads a live panel's numbers every 100 ms until `done` holds for what was seen (or 20 s pass): the
 * stock values it showed, and its orders accepted per second, each change in order.
 */
async function watchPanel (page: Page, productId: number, done: (seen: Seen) => boolean): Promise<Seen> {
  const panel = page.locator(`[data-test="live-product"][data-product-id="${productId}"]`)
  const seen: Seen = { stocks: new Set(), accepted: [] }
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline && !done(seen)) {
    seen.stocks.add((await panel.getByTestId('live-stock').textContent())?.trim() ?? '')
    const accepted = Number((await panel.getByTestId('live-accepted').textContent())?.trim())
    if (Number.isInteger(accepted) && accepted !== seen.accepted.at(-1)) seen.accepted.push(accepted)
    await page.waitForTimeout(100)
  }
  return seen
}

async function pageIsClean (t: Test, page: Page, label: string): Promise<void> {
  t.same(await seriousViolations(page), [], `${label}: no serious axe-core violations`)
  const sizes = await page.evaluate<{ scroll: number, client: number }>('({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })')
  t.ok(sizes.scroll <= sizes.client, `${label}: no sideways scroll at 390 px (${JSON.stringify(sizes)})`)
  await page.screenshot({ path: join(SCREENSHOTS, `live-${label}.png`), fullPage: true })
}

t.test('the admin\'s live panel moves as buyers order: orders per second, stock burning down, units sold', async (t) => {
  const created = await api<{ id: number }>('POST', '/products', { name: `${RUN} tea`, stock: 10, price: 0, perUserLimit: null }, true)
  t.equal(created.status, 201)
  const productId = created.body.id
  const page = await openPage('en', '/admin')
  await page.getByTestId('admin-search').fill(RUN)
  const panel = page.locator(`[data-test="live-product"][data-product-id="${productId}"]`)
  await panel.waitFor()
  await page.getByTestId('live-state').filter({ hasText: 'Live' }).waitFor()
  await panel.getByTestId('live-stock').filter({ hasText: /^10$/ }).waitFor()

  // 14 guests for 10 units; each retries a 429 or 503 with its key, as a client should.
  const answers = await Promise.all(Array.from({ length: 14 }, () => placeGuestOrder(productId)))
  t.equal(answers.filter((s) => s === 202).length, 10, 'the buyers got 10 accepted')

  const seen = await watchPanel(page, productId, (s) => s.stocks.has('0') && s.accepted.some((n) => n > 0))
  t.ok(seen.accepted.some((n) => n > 0), `the panel showed orders accepted per second (${seen.accepted.join(' → ')})`)
  t.ok(seen.stocks.has('0'), `the panel's stock, 10 before the orders, came down to 0 (${[...seen.stocks].join(' → ')})`)
  await panel.getByTestId('live-paid').filter({ hasText: /^10$/ }).waitFor({ timeout: 20_000 })
  t.equal((await panel.getByTestId('live-held').textContent())?.trim(), '0', 'sold for free: 10 units sold, none held')
  t.equal((await page.locator(`[data-test="admin-product-row"][data-product-id="${productId}"] [data-test="admin-stock"]`).textContent())?.trim(), '0',
    'the table\'s stock column follows the live view')
  await pageIsClean(t, page, 'admin-en')
  await page.context().close()
})

t.test('the simulator draws its own sale second by second, in Chinese', async (t) => {
  const page = await openPage('zh', '/simulator')
  // More buyers than nginx lets one address send at once: the sale lasts a few seconds.
  await page.getByTestId('sim-units').fill('30')
  await page.getByTestId('sim-buyers').fill('45')
  await page.getByTestId('sim-start').click()
  const id = Number((await page.getByTestId('sim-product-id').textContent())?.match(/#(\d+)/)?.[1])
  t.ok(id > 0, `the run's product is #${id}`)
  const board = page.getByTestId('live-board')
  await board.waitFor()
  t.match(await board.textContent(), /实时销售/, 'the live view speaks Chinese')
  // Orders per second rise with the sale and fall back to 0 when it is over, second by second.
  const roseAndFell = (seen: Seen): boolean => {
    const firstBusy = seen.accepted.findIndex((n) => n > 0)
    return firstBusy >= 0 && seen.accepted.slice(firstBusy).includes(0)
  }
  const seen = await watchPanel(page, id, roseAndFell)
  t.ok(roseAndFell(seen), `orders accepted per second rose and fell back (${seen.accepted.join(' → ')})`)
  await page.locator('[data-test="sim-verdict"][data-ok="true"]').waitFor({ timeout: 30_000 })
  const { body: product } = await api<{ stock: number }>('GET', `/products/${id}`, undefined, true)
  await page.locator(`[data-test="live-product"][data-product-id="${id}"] [data-test="live-stock"]`).filter({ hasText: new RegExp(`^${product.stock}$`) }).waitFor()
  t.ok(product.stock < 30, `the panel shows the stock the sale left (${product.stock} of 30)`)
  await pageIsClean(t, page, 'simulator-zh')
  t.same(pageErrors, [], 'no page errors')
  await page.context().close()
})
