// A crowd of browsers waiting for a sale: 1,000 pollers, each reading the shop's product
// list and one product once a second through nginx for 10 s. nginx's micro-cache must keep what
// reaches the catalog to about one read per second per URL, whatever the number of browsers; the
// catalog counts every read it serves (catalog_product_reads_total), and that is what is asserted.
//
// CROWD_BASE_URL (default NGINX_URL, as the fault scenarios read it, else http://127.0.0.1:8080): nginx.
// CATALOG_METRICS_URLS (default CATALOG_URL's /metrics, else http://127.0.0.1:3001/metrics): every catalog instance behind it,
//   comma-separated. ADMIN_TOKEN (default local-only-flash-sale-admin-token-replace-me-in-any-real-deployment) creates the product polled.
// Other traffic to the same catalog during the run counts too: run it on an otherwise quiet stack.
import t from 'tap'
import autocannon, { type Result } from 'autocannon'

const BASE_URL = (process.env.CROWD_BASE_URL ?? process.env.NGINX_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')
const METRICS_URLS = (process.env.CATALOG_METRICS_URLS ?? `${process.env.CATALOG_URL ?? 'http://127.0.0.1:3001'}/metrics`).split(',').map((u) => u.trim()).filter((u) => u !== '')
const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? 'local-only-flash-sale-admin-token-replace-me-in-any-real-deployment'

const POLLERS = 1000
const SECONDS = 10
/** the shop's own list URL: every browser asks for the same one, so one cache entry serves them all */
const LIST_PATH = '/api/products?page=1&pageSize=12&sort=on-sale-first'
/** reads the catalog may serve beyond one per URL per second per instance (entries straddling the run's edges, expiry races) */
const SLACK_PER_SECOND = 1

async function catalogReads (): Promise<number> {
  let total = 0
  for (const url of METRICS_URLS) {
    const text = await (await fetch(url)).text()
    for (const line of text.split('\n')) {
      if (line.startsWith('catalog_product_reads_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1))
    }
  }
  return total
}

t.test(`${POLLERS} browsers polling for ${SECONDS} s cost the catalog about one read per second per URL`, async (t) => {
  const created = await fetch(`${BASE_URL}/api/products`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ name: `crowd-poll-${Date.now().toString(36)}`, stock: 100, saleStartsAt: new Date(Date.now() + 3_600_000).toISOString() })
  })
  t.equal(created.status, 201, 'product created through nginx')
  const product = await created.json() as { id: number }
  t.teardown(() => fetch(`${BASE_URL}/api/products/${product.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }))
  const paths = [LIST_PATH, `/api/products/${product.id}`]

  const before = await catalogReads()
  const startedAt = performance.now()
  const { promise, resolve, reject } = Promise.withResolvers<Result>()
  autocannon({
    url: BASE_URL,
    connections: POLLERS,
    duration: SECONDS,
    // one request per URL per second from each poller, like the shop's tab
    connectionRate: paths.length,
    requests: paths.map((path) => ({ method: 'GET', path })),
    timeout: 10
  }, (error, result) => { if (error) reject(error); else resolve(result) })
  const result = await promise
  const elapsed = (performance.now() - startedAt) / 1000
  const reads = await catalogReads() - before

  const served = result['2xx'] + result['3xx']
  t.ok(served > POLLERS * SECONDS * paths.length * 0.3, `${served} answers to the pollers (${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts)`)
  t.equal(result.errors + result.timeouts, 0, 'no poller failed')
  t.equal(result['4xx'] + result['5xx'], 0, 'no error answers')
  const ceiling = (paths.length + SLACK_PER_SECOND) * METRICS_URLS.length * Math.ceil(elapsed + 1)
  t.ok(reads <= ceiling,
    `catalog served ${reads} reads in ${elapsed.toFixed(1)} s (${(reads / elapsed).toFixed(2)}/s for ${paths.length} URLs, ${METRICS_URLS.length} instance(s)) for ${served} poller answers; ceiling ${ceiling}`)
  t.ok(reads >= 1, 'the cache was refreshed from the catalog during the run')
})
