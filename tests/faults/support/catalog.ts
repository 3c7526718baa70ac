import { request } from 'undici'
import { ADMIN_TOKEN, CATALOG } from './stack.ts'

// The catalog's admin API as the scenarios use it: products are created, restocked and synced through
// HTTP like an operator would, never by writing MySQL or Redis behind the services' backs.

const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }

async function call<T> (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<{ status: number, body: T }> {
  const res = await request(`${CATALOG}${path}`, {
    method,
    headers: body === undefined ? { authorization: admin.authorization } : admin,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    headersTimeout: 30_000,
    bodyTimeout: 30_000
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: (text === '' ? null : JSON.parse(text)) as T }
}

async function expectOk<T> (what: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await call<T>(method, path, body)
  if (res.status < 200 || res.status >= 300) throw new Error(`${what}: ${method} ${path} answered ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

export interface CreatedProduct { id: number, stock: number }

/** POST /products on the running catalog, as an operator would. */
export async function postProduct (name: string, stock: number,
  extra: { perUserLimit?: number | null, price?: number, paymentWindowSeconds?: number } = {}): Promise<CreatedProduct> {
  const product = await expectOk<{ id: number, stock: number }>('create product', 'POST', '/products', {
    name,
    stock,
    price: extra.price ?? 0,
    ...(extra.perUserLimit === undefined ? {} : { perUserLimit: extra.perUserLimit }),
    ...(extra.paymentWindowSeconds === undefined ? {} : { paymentWindowSeconds: extra.paymentWindowSeconds })
  })
  return { id: product.id, stock: product.stock }
}

export async function restock (productId: number, quantity: number): Promise<{ status: number, body: unknown }> {
  return call('POST', `/products/${productId}/restock`, { quantity })
}

export interface SyncRow { productId: number, outcome: string, before: number | null, after: number | null, pending: number, mysqlStock: number }

export async function syncStock (productIds: number[]): Promise<SyncRow[]> {
  return (await expectOk<{ products: SyncRow[] }>('sync stock', 'POST', '/admin/stock/sync', { productIds })).products
}

export interface StaleReservation { productId: number, orderId: string, quantity: number, ageSeconds: number }

export async function reconcile (staleAfterSeconds?: number): Promise<{ products: Array<{ productId: number, agrees: boolean }>, staleReservations: StaleReservation[] }> {
  return expectOk('reconcile', 'GET', `/admin/stock/reconcile${staleAfterSeconds === undefined ? '' : `?staleAfterSeconds=${staleAfterSeconds}`}`)
}

export async function releaseStale (productIds: number[]): Promise<{ cutoff: string, released: StaleReservation[] }> {
  return expectOk('release stale', 'POST', '/admin/stock/release-stale', { productIds })
}

export { call as catalogCall }
