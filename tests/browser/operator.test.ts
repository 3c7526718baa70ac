// Operators on the admin page in a real Chromium, in Chinese and English: an admin operator signs in
// with its name and password, restocks a product and sees it in the audit log under its own name; an
// archived product is found with the status filter; a viewer is refused a write at the row and stays
// signed in. axe-core finds no serious or critical violation.
// BASE_URL (default http://127.0.0.1:8080), ADMIN_TOKEN (creates the operators and products).
// Screenshots: test-results/screenshots/operator-*.png.
import t from 'tap'
import { join } from 'node:path'
import { type Browser, type Page } from 'playwright-core'
import { BASE_URL, DESKTOP, SCREENSHOTS, api, launchBrowser, seriousViolations, visit } from './support.ts'

const RUN = Date.now().toString(36)
const PASSWORD = `operator-browser-${RUN}-passphrase`
interface Product { id: number; name: string; stock: number }

const TEXT = {
  zh: { admin: '管理员', viewer: '查看者', restocked: '补货', archived: '已归档', readOnly: /查看者/ },
  en: { admin: 'admin', viewer: 'viewer', restocked: 'Restocked', archived: 'Archived', readOnly: /role is viewer/ },
} as const

let browser: Browser
const pageErrors: string[] = []
t.before(async () => { browser = await launchBrowser() })
// On a failure only: the last test closes the browser (its process would keep the run alive).
t.after(async () => { await browser?.close() })

async function made<T> (what: string, res: Promise<{ status: number; body: T }>): Promise<T> {
  const { status, body } = await res
  if (status !== 201 && status !== 200) throw new Error(`${what} answered ${status}: ${JSON.stringify(body)}`)
  return body
}

const operator = (role: 'admin' | 'viewer', locale: string) =>
  made(`operator ${role}`, api<{ username: string }>('POST', '/admin/operators', { username: `op-${role}-${locale}-${RUN}`, password: PASSWORD, role }, true))

async function signIn (locale: 'zh' | 'en', username: string): Promise<Page> {
  const { page } = await visit(browser, { locale, viewport: DESKTOP, errors: pageErrors })
  await page.goto(`${BASE_URL}/admin`)
  await page.getByTestId('operator-username').fill(username)
  await page.getByTestId('operator-password').fill(PASSWORD)
  await page.getByTestId('operator-sign-in').click()
  await page.getByTestId('operator-badge').waitFor()
  return page
}

for (const locale of ['zh', 'en'] as const) {
  t.test(`${locale}: an operator signs in, restocks, sees it in the audit log under its name, and finds an archived product`, async (t) => {
    const text = TEXT[locale]
    const admin = await operator('admin', locale)
    const product = await made('product', api<Product>('POST', '/products', { name: `${RUN} ${locale} operator tea`, stock: 5, price: 0 }, true))
    const gone = await made('product', api<Product>('POST', '/products', { name: `${RUN} ${locale} archived tea`, stock: 1, price: 0 }, true))
    await made('archive', api<Product>('DELETE', `/products/${gone.id}`, undefined, true))

    const page = await signIn(locale, admin.username)
    t.teardown(() => page.context().close())
    t.match(await page.getByTestId('operator-badge').innerText(), new RegExp(`${admin.username}.*${text.admin}`), 'the page names the operator and its role')

    await page.getByTestId('admin-search').fill(String(product.id))
    const row = page.locator(`[data-test="admin-product-row"][data-product-id="${product.id}"]`)
    await row.getByTestId('restock-qty').fill('3')
    await row.getByTestId('restock').click()
    await row.getByTestId('admin-stock').filter({ hasText: '8' }).waitFor()

    const entry = page.locator('[data-test="audit-row"]', { hasText: `#${product.id}` }).filter({ hasText: admin.username })
    await entry.first().waitFor()
    t.equal(await entry.first().getByTestId('audit-action').innerText(), text.restocked, 'the audit log says what was done, in the UI\'s language')
    t.equal(await entry.first().getByTestId('audit-actor').innerText(), admin.username, 'and who did it')

    await page.getByTestId('admin-status').selectOption('archived')
    await page.getByTestId('admin-search').fill(`${RUN} ${locale} archived`)
    const archivedRow = page.locator(`[data-test="admin-product-row"][data-product-id="${gone.id}"]`)
    await archivedRow.waitFor()
    t.equal(await archivedRow.getByTestId('admin-status-cell').innerText(), text.archived, 'the archived product is found')
    t.equal(await archivedRow.getByTestId('restock').count(), 0, 'and offers no restock or archive')
    t.same(await seriousViolations(page), [], 'axe: no serious or critical violation')
    await page.screenshot({ path: join(SCREENSHOTS, `operator-audit-${locale}.png`), fullPage: true })
  })
}

t.test('a viewer is refused a restock at the row, in its language, and stays signed in', async (t) => {
  const viewer = await operator('viewer', 'zh')
  const product = await made('product', api<Product>('POST', '/products', { name: `${RUN} viewer tea`, stock: 5, price: 0 }, true))
  const page = await signIn('zh', viewer.username)
  t.teardown(() => page.context().close())
  t.match(await page.getByTestId('operator-badge').innerText(), TEXT.zh.viewer)
  await page.getByTestId('admin-search').fill(String(product.id))
  const row = page.locator(`[data-test="admin-product-row"][data-product-id="${product.id}"]`)
  await row.getByTestId('restock-qty').fill('3')
  await row.getByTestId('restock').click()
  t.match(await row.getByTestId('row-error').innerText(), TEXT.zh.readOnly, 'the refusal is explained at the row')
  t.equal(await page.getByTestId('operator-badge').count(), 1, 'the viewer is still signed in')
  const after = await api<Product>('GET', `/products/${product.id}`)
  t.equal(after.body.stock, 5, 'nothing was restocked')
})

t.test('no page threw an uncaught error', async (t) => {
  t.same(pageErrors, [])
  await browser.close()
})
