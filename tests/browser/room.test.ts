// A waiting room in a real browser, against the real stack behind nginx (docs/ARCHITECTURE.md §10):
// buyers join before the start; the queue page shows the place, who is ahead, the estimate counting
// down and the live stock; the admitted buyer sees its turn with the countdown and buys; the rest are
// told sold out. In English at 1280 px and Chinese at 390 px (each page then at the other width), with
// axe-core finding nothing serious or critical on the queue page in any of its states.
//
// BASE_URL (default http://localhost:8080), ADMIN_TOKEN, CHROMIUM_PATH. Screenshots: test-results/screenshots/room-*.png.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { type Browser, type Page } from 'playwright-core'
import { BASE_URL, DESKTOP, PHONE, SCREENSHOTS, api, launchBrowser, seriousViolations, signUpInContext, visit } from './support.ts'
import { waitUntil } from '@flash/common/test-support'
import { buyerAuthorization } from '../../bench/buyers.ts'

const RUN = `room${Date.now().toString(36)}`

interface RoomStatus { state: string, position: number | null, ahead: number | null, waiting: number, stock: number, pass: string | null }

let browser: Browser
const pageErrors: string[] = []

/** A signed-in buyer's page in its language and width (its session made through the API, as on another device). */
async function buyerPage (name: string, locale: 'en' | 'zh', viewport: { width: number, height: number }): Promise<Page> {
  const { context, page } = await visit(browser, { locale, viewport, admin: true, storage: { 'flash.signedIn': '1' }, errors: pageErrors })
  t.teardown(() => context.close())
  await signUpInContext(context.request, `${RUN}${name}`, 'room-test-password')
  return page
}

/** A buyer in the crowd, through the API with a token signed by the stack's secret (no browser). */
async function crowdCall (userId: string, method: 'GET' | 'POST', path: string, extra: Record<string, string> = {}, body?: unknown): Promise<{ status: number, body: RoomStatus }> {
  const res = await fetch(`${BASE_URL}/api${path}`, {
    method,
    headers: { authorization: buyerAuthorization(userId), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extra },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() as RoomStatus }
}

async function checkPage (t: Test, page: Page, label: string): Promise<void> {
  t.same(await seriousViolations(page), [], `${label}: axe finds no serious or critical violation`)
  const overflow = await page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth')
  t.notOk(overflow, `${label}: no sideways scroll`)
  await page.screenshot({ path: join(SCREENSHOTS, `room-${label}.png`), fullPage: true })
}

/** At the other width too: the phone's page on a desktop and the other way round. */
async function atBothWidths (t: Test, page: Page, label: string): Promise<void> {
  const own = page.viewportSize() ?? DESKTOP
  await checkPage(t, page, `${label}-${own.width}`)
  await page.setViewportSize(own.width === PHONE.width ? DESKTOP : PHONE)
  await checkPage(t, page, `${label}-${own.width === PHONE.width ? DESKTOP.width : PHONE.width}`)
  await page.setViewportSize(own)
}

const countdown = async (page: Page, testId: string): Promise<number> => {
  const text = await page.getByTestId(testId).textContent() ?? ''
  const match = /(\d+):(\d\d)/.exec(text)
  if (match === null) throw new Error(`no countdown in "${text}"`)
  return Number(match[1]) * 60 + Number(match[2])
}

/** Waits until the countdown under `testId` shows less than `first` seconds. */
async function countsDown (page: Page, testId: string, first: number): Promise<void> {
  // A string, not a function: this file is type-checked without the DOM's types.
  await page.waitForFunction(`(() => {
    const m = /(\\d+):(\\d\\d)/.exec(document.querySelector('[data-test="${testId}"]')?.textContent ?? '')
    return m !== null && Number(m[1]) * 60 + Number(m[2]) < ${first}
  })()`, undefined, { timeout: 10_000 })
}

t.before(async () => { browser = await launchBrowser() })
t.teardown(async () => { await browser?.close() })

t.test('a queue: places, estimate and live stock; the admitted buyer sees the turn and buys; the rest see sold out; both languages, phone and desktop', async (t) => {
  // Two units; the sale starts in a few seconds. Ann (English, desktop) and one of the crowd join
  // before the start: the first tick admits both. Wen (Chinese, phone) arrives after the start,
  // behind three more of the crowd, and waits.
  // The accounts first (each sign-up solves the catalog's proof of work), then the product.
  const [ann, wen] = await Promise.all([buyerPage('ann', 'en', DESKTOP), buyerPage('wen', 'zh', PHONE)])
  const startsAt = Date.now() + 9000
  const created = await api<{ id: number }>('POST', '/products', {
    name: `Room ${RUN}`, stock: 2, price: 0, perUserLimit: 1, saleStartsAt: new Date(startsAt).toISOString(), waitingRoom: { enabled: true, opensSecondsBefore: 3600 }
  }, true)
  t.equal(created.status, 201, 'a product with a waiting room')
  const productId = created.body.id
  t.teardown(async () => { await api('PATCH', `/products/${productId}`, { waitingRoom: { enabled: false } }, true) })

  // The gateway learns of the room from the catalog's announcement (or its next copy of the set).
  const early = `${RUN}-early`
  await waitUntil('the gateway knows the room', async () => (await crowdCall(early, 'POST', `/rooms/${productId}/join`)).status === 200 || undefined, 10_000, 500)
  await ann.goto(`${BASE_URL}/queue/${productId}`)
  await ann.getByTestId('queue-waiting').waitFor()
  t.match(await ann.getByTestId('queue-position').textContent(), /Your place: [12]/, 'before the start Ann has a place')
  t.ok(Date.now() < startsAt, 'both joined before the start')
  t.match(await ann.getByTestId('queue-waiting').textContent(), /shuffled at the start/, 'and is told early arrival gives no advantage')
  await atBothWidths(t, ann, 'waiting-before-start-en')

  // The start: the first tick admits both early joiners; later arrivals wait behind them.
  const admitted = await waitUntil('the early crowd member admitted', async () => {
    const status = await crowdCall(early, 'GET', `/rooms/${productId}/status`)
    return status.body.state === 'admitted' ? status.body : undefined
  }, 30_000, 1000)
  t.ok(admitted.pass, 'the early crowd member was admitted with a pass')
  const late = [0, 1, 2].map((i) => `${RUN}-late${i}`)
  for (const who of late) t.equal((await crowdCall(who, 'POST', `/rooms/${productId}/join`)).status, 200, `${who} joins after the start`)

  await wen.goto(`${BASE_URL}/queue/${productId}`)
  await wen.getByTestId('queue-waiting').waitFor()
  t.equal((await wen.getByTestId('queue-position').textContent())?.trim(), '您的位置：第 4 位', 'Wen is fourth, in Chinese')
  t.match(await wen.getByTestId('queue-waiting').textContent(), /前面还有 3 人 · 共 4 人在排队/, 'three ahead of her, four waiting')
  t.equal((await wen.getByTestId('queue-stock').textContent())?.trim(), '剩余库存：2', 'the live stock')
  t.ok(await wen.locator('[data-test="queue-waiting"] progress').isVisible(), 'a progress bar')
  const eta = await countdown(wen, 'queue-eta')
  await countsDown(wen, 'queue-eta', eta)
  t.pass(`the estimate counts down from ${eta} s`)
  await atBothWidths(t, wen, 'waiting-zh')

  // Ann's page learns her turn at its next poll: the countdown runs from the pass's two minutes.
  await ann.getByTestId('queue-admitted').waitFor({ timeout: 15_000 })
  t.match(await ann.getByTestId('queue-admitted').textContent(), /It's your turn — buy within 0?1:[0-5]\d/, 'the turn, with the time left')
  const left = await countdown(ann, 'queue-admitted')
  await countsDown(ann, 'queue-admitted', left)
  t.pass(`the turn counts down from ${left} s`)
  await atBothWidths(t, ann, 'admitted-en')
  // A buyer whose order met a busy gateway (503 after the page's own retries) sees the error and
  // presses Buy again, as a person would; at most three times.
  for (let press = 1; press <= 3; press++) {
    await ann.getByTestId('queue-buy').click()
    if (await ann.getByTestId('queue-bought').waitFor({ timeout: 10_000 }).then(() => true, () => false)) break
  }
  t.match(await ann.getByTestId('queue-bought').textContent(), /Ordered!/, 'Ann bought with her pass')

  // The other early buyer buys its unit through the API: the product is sold out.
  const order = await crowdCall(early, 'POST', '/orders', { 'idempotency-key': `${RUN}-early-order`, 'x-room-pass': admitted.pass ?? '' }, { productId, quantity: 1 })
  t.equal(order.status, 202, 'the other admitted buyer bought the last unit')
  await wen.getByTestId('queue-sold-out').waitFor({ timeout: 15_000 })
  t.match(await wen.getByTestId('queue-sold-out').textContent(), /已售罄/, 'Wen is told sold out, in Chinese')
  t.equal((await wen.getByTestId('queue-stock').textContent())?.trim(), '剩余库存：0')
  await atBothWidths(t, wen, 'sold-out-zh')
  const room = await api<{ waiting: number, holdingPass: number, admitted: number, bought: number }>('GET', `/rooms/${productId}`, undefined, true)
  t.match(room.body, { waiting: 4, holdingPass: 0, admitted: 2, bought: 2 }, 'the room counted two admitted, two bought, four still waiting')

  // The admin sees the room's counters on the admin page, and switches the room off there.
  const admin = await ann.context().newPage()
  await admin.goto(`${BASE_URL}/admin`)
  await admin.getByTestId('admin-search').fill(`Room ${RUN}`)
  const row = admin.locator(`[data-test="room-row"][data-product-id="${productId}"]`)
  await row.getByTestId('room-bought').filter({ hasText: '2' }).waitFor()
  t.same([await row.getByTestId('room-waiting').textContent(), await row.getByTestId('room-admitted').textContent(),
    await row.getByTestId('room-holding').textContent(), await row.getByTestId('room-left').textContent()].map((s) => s?.trim()),
  ['4', '2', '0', '0'], 'admin: 4 waiting, 2 admitted, none holding a pass, none left')
  t.same(await seriousViolations(admin), [], 'admin page: axe finds no serious or critical violation')
  await admin.screenshot({ path: join(SCREENSHOTS, 'room-admin-1280.png'), fullPage: true })
  await row.getByTestId('room-switch').click()
  await row.getByTestId('room-switch').filter({ hasText: 'Off' }).waitFor()
  t.equal((await api<{ waitingRoom: { enabled: boolean } }>('GET', `/products/${productId}`)).body.waitingRoom.enabled, false, 'admin: the switch turned the room off')
  t.same(pageErrors, [], 'no page error')
})
