// Typed client for the catalog-service and order-gateway, reached through nginx (or Vite's dev
// proxy) under /api. Every failure becomes an ApiError with a stable `code`, so views can show a
// readable message instead of a blank page or a console-only error.

// The shapes are the services' own TypeBox schemas, imported as types only: nothing of the backend
// is bundled (`import type` is erased), and a change to a service's contract breaks this build.
import type { ErrorCode as ServiceErrorCode } from '@backend/common/src/errors.ts'
import type { OrderStatus } from '@backend/common/src/schemas.ts'
import type {
  NewProduct, Product, ProductChanges, ProductPage, ReconcileReport, SyncReport,
} from '@backend/catalog-service/src/schemas.ts'
import type { CancelAccepted, Order, OrderAccepted, OrderPage } from '@backend/order-gateway/src/schemas.ts'

export type { NewProduct, Order, OrderStatus, Product, ProductChanges, ReconcileReport, SyncReport }

/** Codes the services answer with, plus the ones this client makes up for transport failures. */
export type ErrorCode =
  | ServiceErrorCode
  | 'NETWORK_ERROR'
  | 'BAD_GATEWAY'
  | 'HTTP_ERROR'
  | (string & {})

export class ApiError extends Error {
  readonly status: number
  readonly code: ErrorCode
  /** INSUFFICIENT_STOCK carries the units still available. */
  readonly available: number | undefined
  /** Seconds from a Retry-After header (503, 429). */
  readonly retryAfter: number | undefined

  constructor(status: number, code: ErrorCode, message: string, available?: number, retryAfter?: number) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.available = available
    this.retryAfter = retryAfter
  }
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
}

const BASE = '/api'

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED'
  if (status === 403) return 'FORBIDDEN'
  if (status === 429) return 'RATE_LIMITED'
  if (status === 502 || status === 504) return 'BAD_GATEWAY'
  if (status === 503) return 'SERVICE_UNAVAILABLE'
  return 'HTTP_ERROR'
}

async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
  const init: RequestInit = { method: options.method ?? 'GET', headers, signal: options.signal }
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    init.body = JSON.stringify(options.body)
  }
  let response: Response
  try {
    response = await fetch(BASE + path, init)
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0, 'NETWORK_ERROR', err instanceof Error ? err.message : String(err))
  }
  const text = await response.text()
  let data: unknown
  if (text !== '' && (response.headers.get('content-type') ?? '').includes('json')) {
    try {
      data = JSON.parse(text)
    } catch {
      data = undefined
    }
  }
  if (!response.ok) {
    const body = (data ?? {}) as { code?: unknown; message?: unknown; available?: unknown }
    const retryHeader = Number(response.headers.get('retry-after'))
    throw new ApiError(
      response.status,
      typeof body.code === 'string' && body.code !== '' ? body.code : codeForStatus(response.status),
      typeof body.message === 'string' ? body.message : `HTTP ${response.status} ${response.statusText}`,
      typeof body.available === 'number' ? body.available : undefined,
      Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : undefined,
    )
  }
  return data as T
}

function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  }
  const s = search.toString()
  return s === '' ? '' : `?${s}`
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** A fresh Idempotency-Key. crypto.randomUUID needs a secure context; a phone on the LAN is not one. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

// --- catalog -----------------------------------------------------------------------------------

export function listProducts(params: { page?: number; pageSize?: number; name?: string } = {}, signal?: AbortSignal) {
  return request<ProductPage>(`/products${query(params)}`, { signal })
}

export function getProduct(id: number, signal?: AbortSignal) {
  return request<Product>(`/products/${id}`, { signal })
}

export function createProduct(token: string, product: NewProduct) {
  return request<Product>('/products', { method: 'POST', body: product, headers: bearer(token) })
}

export function updateProduct(token: string, id: number, changes: ProductChanges) {
  return request<Product>(`/products/${id}`, { method: 'PATCH', body: changes, headers: bearer(token) })
}

export function restockProduct(token: string, id: number, quantity: number) {
  return request<Product>(`/products/${id}/restock`, { method: 'POST', body: { quantity }, headers: bearer(token) })
}

export function archiveProduct(token: string, id: number) {
  return request<Product>(`/products/${id}`, { method: 'DELETE', headers: bearer(token) })
}

export function reconcileStock(token: string) {
  return request<ReconcileReport>('/admin/stock/reconcile', { headers: bearer(token) })
}

export function syncStock(token: string) {
  return request<SyncReport>('/admin/stock/sync', { method: 'POST', headers: bearer(token) })
}

// --- orders ------------------------------------------------------------------------------------

export function placeOrder(order: { productId: number; quantity: number; userId?: string }, idempotencyKey: string) {
  return request<OrderAccepted>('/orders', {
    method: 'POST',
    body: order,
    headers: { 'idempotency-key': idempotencyKey },
  })
}

/**
 * Places an order, retrying transport failures and 503s with the *same* Idempotency-Key: the
 * gateway answers a replayed key with the first answer, so a retry can never buy twice.
 */
export async function placeOrderWithRetry(
  order: { productId: number; quantity: number; userId?: string },
  idempotencyKey: string,
  attempts = 3,
): Promise<OrderAccepted> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await placeOrder(order, idempotencyKey)
    } catch (err) {
      const retryable = err instanceof ApiError && (err.code === 'NETWORK_ERROR' || err.status === 503 || err.status === 502)
      if (!retryable || attempt >= attempts) throw err
      const waitMs = Math.min((err.retryAfter ?? 0) * 1000 || 250 * 2 ** attempt, 3000)
      await new Promise((resolve) => setTimeout(resolve, waitMs))
    }
  }
}

export function getOrder(orderId: string, signal?: AbortSignal) {
  return request<Order>(`/orders/${encodeURIComponent(orderId)}`, { signal })
}

export function listOrders(
  params: { userId?: string; productId?: number; status?: OrderStatus | ''; page?: number; pageSize?: number } = {},
  signal?: AbortSignal,
) {
  return request<OrderPage>(`/orders${query(params)}`, { signal })
}

export function cancelOrder(orderId: string) {
  return request<CancelAccepted>(`/orders/${encodeURIComponent(orderId)}`, { method: 'DELETE' })
}

export function isFinal(status: OrderStatus): boolean {
  return status !== 'pending'
}
