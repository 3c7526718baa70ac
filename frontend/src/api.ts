// Typed client for the catalog-service and order-gateway, reached through nginx (or Vite's dev
// proxy) under /api. Every failure becomes an ApiError with a stable `code`, so views can show a
// readable message instead of a blank page or a console-only error.

// The shapes are the services' own TypeBox schemas, imported as types only: nothing of the backend
// is bundled (`import type` is erased), and a change to a service's contract breaks this build.
import type { ErrorCode as ServiceErrorCode } from '@backend/common/src/contracts/errors.ts'
import type { OrderStatus, PaymentStatus } from '@backend/common/src/contracts/schemas.ts'
import type {
  AdminProductQuery, AuditEntry, AuditPage, NewProduct, OperatorSession, Product, ProductChanges, ProductPage, ProductQuery, ReconcileReport, SyncReport,
} from '@backend/catalog-service/src/schemas.ts'
import type { CancelAccepted, Order, OrderAccepted, OrderPage, RoomStatus, RoomSummary, SalesSummary } from '@backend/order-gateway/src/schemas.ts'
import type { Payment, PaymentsConfig } from '@backend/payment-service/src/schemas.ts'
import type { BuyerView as Buyer, Challenge, SessionView as Session } from '@backend/catalog-service/src/buyers/schemas.ts'
import { solveChallenge } from './proof-of-work/index.ts'

export type { AuditEntry, NewProduct, OperatorSession, Order, OrderPage, OrderStatus, Product, Payment, PaymentStatus, ProductChanges, ReconcileReport, RoomStatus, RoomSummary, SyncReport }
export type SalesRow = SalesSummary['items'][number]
/** GET /payments/config: sandbox mode and its test cards. */
export type PaymentConfig = PaymentsConfig

// --- buyers and sessions -----------------------------------------------------------------------

export type { Buyer, Session }

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
  /** The error body's extra fields (remaining for PER_USER_LIMIT, saleStartsAt for SALE_NOT_STARTED, …). */
  readonly details: Record<string, unknown>

  constructor(status: number, code: ErrorCode, message: string, available?: number, retryAfter?: number, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.available = available
    this.retryAfter = retryAfter
    this.details = details
  }
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** false: a 401 UNAUTHENTICATED is not answered by refreshing the session and retrying */
  refresh?: boolean
}

const BASE = '/api'

// --- server clock ------------------------------------------------------------------------------
// Sale windows are judged by the servers' clock; a phone's clock may be minutes off. Every answer
// carries X-Server-Time (ms, or nginx's "seconds.millis"); the offset of the answer with the
// shortest round trip is the best estimate, so a slow answer never makes the countdown worse.
let bestRoundTrip = Number.POSITIVE_INFINITY
let clockOffsetMs = 0
let offsetObservedAt = 0

function observeServerTime(header: string | null, sentAt: number, receivedAt: number): void {
  if (header === null) return
  const value = Number(header)
  if (!Number.isFinite(value) || value <= 0) return
  const serverMs = header.includes('.') ? value * 1000 : value
  const roundTrip = receivedAt - sentAt
  // Estimates age: after a minute a fresh one is preferred even if its round trip was longer.
  if (roundTrip <= bestRoundTrip || receivedAt - offsetObservedAt > 60_000) {
    bestRoundTrip = roundTrip
    clockOffsetMs = serverMs - (sentAt + roundTrip / 2)
    offsetObservedAt = receivedAt
  }
}

/** The servers' clock as this browser best knows it (ms epoch). */
export function serverNow(): number {
  return Date.now() + clockOffsetMs
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED'
  if (status === 403) return 'FORBIDDEN'
  if (status === 429) return 'RATE_LIMITED'
  if (status === 502 || status === 504) return 'BAD_GATEWAY'
  if (status === 503) return 'SERVICE_UNAVAILABLE'
  return 'HTTP_ERROR'
}

// The session lives in httpOnly cookies this code never sees. An expired access token is answered
// 401 UNAUTHENTICATED: the client refreshes once (POST /auth/refresh, rotating the refresh cookie) and
// retries. Concurrent requests share one refresh, since a refresh token works only once.
let refreshing: Promise<boolean> | undefined
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch(`${BASE}/auth/refresh`, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json' } })
    .then((r) => r.ok, () => false)
    .finally(() => { refreshing = undefined })
  return refreshing
}

async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  try {
    return await send<T>(path, options)
  } catch (err) {
    const mayRefresh = options.refresh !== false && options.headers?.authorization === undefined && !path.startsWith('/auth/')
    if (mayRefresh && err instanceof ApiError && err.status === 401 && err.code === 'UNAUTHENTICATED' && (await refreshSession())) {
      return send<T>(path, options)
    }
    throw err
  }
}

async function send<T>(path: string, options: RequestOptions): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
  const init: RequestInit = { method: options.method ?? 'GET', headers, signal: options.signal, credentials: 'same-origin' }
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    init.body = JSON.stringify(options.body)
  }
  let response: Response
  const sentAt = Date.now()
  try {
    response = await fetch(BASE + path, init)
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0, 'NETWORK_ERROR', err instanceof Error ? err.message : String(err))
  }
  observeServerTime(response.headers.get('x-server-time'), sentAt, Date.now())
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
    const body = (data ?? {}) as { code?: unknown; message?: unknown; available?: unknown; [extra: string]: unknown }
    const retryHeader = Number(response.headers.get('retry-after'))
    throw new ApiError(
      response.status,
      typeof body.code === 'string' && body.code !== '' ? body.code : codeForStatus(response.status),
      typeof body.message === 'string' ? body.message : `HTTP ${response.status} ${response.statusText}`,
      typeof body.available === 'number' ? body.available : undefined,
      Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : undefined,
      body,
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

export type ProductSort = ProductQuery['sort']

/** Product pages of the shop: the answer may come from nginx's 1 s micro-cache (what a crowd of shoppers polls). */
export function listProducts(
  params: { page?: number; pageSize?: number; name?: string; sort?: ProductSort; hideSoldOut?: boolean } = {},
  signal?: AbortSignal,
) {
  const { hideSoldOut, ...rest } = params
  return request<ProductPage>(`/products${query({ ...rest, hideSoldOut: hideSoldOut ? 'true' : undefined })}`, { signal })
}

export function getProduct(id: number, signal?: AbortSignal) {
  return request<Product>(`/products/${id}`, { signal })
}

/** `context: 'simulator'`: the audit log records the simulator's run rather than a plain create. */
export function createProduct(token: string, product: NewProduct, context?: 'simulator') {
  const headers = context === undefined ? bearer(token) : { ...bearer(token), 'x-admin-context': context }
  return request<Product>('/products', { method: 'POST', body: product, headers })
}

/** The admin page's list: archived products too, by id or name; always fresh (an admin route). */
export function listAdminProducts(token: string, params: { page?: number; pageSize?: number; status?: AdminProductQuery['status']; search?: string }) {
  return request<ProductPage>(`/admin/products${query(params)}`, { headers: bearer(token) })
}

export function auditLog(token: string, params: { page?: number; pageSize?: number; productId?: number }) {
  return request<AuditPage>(`/admin/audit${query(params)}`, { headers: bearer(token) })
}

/** An operator's sign-in: its token goes where the admin token went (every service's admin routes take both). */
export function operatorLogin(username: string, password: string) {
  return request<OperatorSession>('/auth/operators/login', { method: 'POST', body: { username, password }, refresh: false })
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

// --- accounts (catalog-service) ----------------------------------------------------------------

/**
 * Creates an account and signs it in. When the operator asks sign-ups for proof of work (the
 * challenge's bits > 0) it is solved first, in a worker.
 */
export async function register(username: string, password: string) {
  const { challenge, bits } = await request<Challenge>('/auth/challenge')
  const proof = bits > 0 ? { challenge, nonce: await solveChallenge(challenge, bits) } : undefined
  return await request<Session>('/auth/register', { method: 'POST', body: { username, password, ...(proof === undefined ? {} : { proof }) } })
}

export function login(username: string, password: string, cookies = true) {
  return request<Session>('/auth/login', { method: 'POST', body: { username, password, cookies } })
}

export function logout() {
  return request<void>('/auth/logout', { method: 'POST' })
}

/** The signed-in buyer, refreshing an expired access token once; null when nobody is signed in. */
export async function currentBuyer(): Promise<Buyer | null> {
  try {
    return await request<Buyer>('/auth/me')
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err
    if (!(await refreshSession())) return null
    return request<Buyer>('/auth/me')
  }
}

// --- orders ------------------------------------------------------------------------------------

/** Who asks about an order: the session (cookies, the default), a buyer's token, a guest's receipt, or the admin. */
export interface OrderAccess {
  /** a buyer's access token (the simulator) or the admin token */
  token?: string
  receipt?: string
}

function accessHeaders(access: OrderAccess = {}): Record<string, string> {
  return {
    ...(access.token !== undefined ? bearer(access.token) : {}),
    ...(access.receipt !== undefined ? { 'x-order-receipt': access.receipt } : {}),
  }
}

/**
 * The buyer is the session (or `token`); without one this is a guest order and its answer carries a
 * receipt. A product whose waiting room is on needs the pass the room handed the buyer (`roomPass`).
 */
export function placeOrder(order: { productId: number; quantity: number }, idempotencyKey: string, token?: string, roomPass?: string) {
  return request<OrderAccepted>('/orders', {
    method: 'POST',
    body: order,
    headers: { 'idempotency-key': idempotencyKey, ...accessHeaders({ token }), ...(roomPass !== undefined ? { 'x-room-pass': roomPass } : {}) },
  })
}

// --- waiting room (order-gateway) ----------------------------------------------------------------

/** Takes (or finds again) the signed-in buyer's place in a product's waiting room. */
export function joinRoom(productId: number) {
  return request<RoomStatus>(`/rooms/${productId}/join`, { method: 'POST' })
}

/** The buyer's place; poll again after its `pollAfterMs`, not sooner. */
export function roomStatus(productId: number, signal?: AbortSignal) {
  return request<RoomStatus>(`/rooms/${productId}/status`, { signal })
}

/** Admin: a product's waiting room — waiting, admitted, holding a pass, bought, left. */
export function roomSummary(token: string, productId: number, signal?: AbortSignal) {
  return request<RoomSummary>(`/rooms/${productId}`, { signal, headers: bearer(token) })
}

/**
 * Places an order, retrying transport failures and 503s with the *same* Idempotency-Key: the
 * gateway answers a replayed key with the first answer, so a retry can never buy twice.
 */
export async function placeOrderWithRetry(
  order: { productId: number; quantity: number },
  idempotencyKey: string,
  attempts = 3,
  token?: string,
  roomPass?: string,
): Promise<OrderAccepted> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await placeOrder(order, idempotencyKey, token, roomPass)
    } catch (err) {
      const retryable = err instanceof ApiError && (err.code === 'NETWORK_ERROR' || err.status === 503 || err.status === 502)
      if (!retryable || attempt >= attempts) throw err
      const waitMs = Math.min((err.retryAfter ?? 0) * 1000 || 250 * 2 ** attempt, 3000)
      await new Promise((resolve) => setTimeout(resolve, waitMs))
    }
  }
}

/** Units sold (and held, paid, expired once payments apply) per product: the admin table's columns. */
export async function salesByProduct(productIds: number[]): Promise<Map<number, SalesRow>> {
  if (productIds.length === 0) return new Map()
  const search = new URLSearchParams(productIds.map((id) => ['productId', String(id)]))
  const result = await request<SalesSummary>(`/orders/sales?${search.toString()}`)
  return new Map(result.items.map((row) => [row.productId, row]))
}

export function getOrder(orderId: string, access: OrderAccess = {}, signal?: AbortSignal) {
  return request<Order>(`/orders/${encodeURIComponent(orderId)}`, { signal, headers: accessHeaders(access) })
}

/** The signed-in buyer's orders; with the admin token (`access.token`), everyone's. */
export function listOrders(
  params: { productId?: number; status?: OrderStatus | ''; page?: number; pageSize?: number } = {},
  access: OrderAccess = {},
  signal?: AbortSignal,
) {
  return request<OrderPage>(`/orders${query(params)}`, { signal, headers: accessHeaders(access) })
}

export function cancelOrder(orderId: string, access: OrderAccess = {}) {
  return request<CancelAccepted>(`/orders/${encodeURIComponent(orderId)}`, { method: 'DELETE', headers: accessHeaders(access) })
}

export function isFinal(status: OrderStatus): boolean {
  return status !== 'pending' && status !== 'awaiting_payment'
}

// --- payments (payment-service) ----------------------------------------------------------------
// Read and paid with the same access as the order: the session, a buyer's token or the guest's receipt.

export function paymentConfig(signal?: AbortSignal) {
  return request<PaymentConfig>('/payments/config', { signal })
}

/** Opens the order's payment (201), or answers the one already open (200). */
export function startPayment(orderId: string, access: OrderAccess = {}) {
  return request<Payment>('/payments', { method: 'POST', body: { orderId }, headers: accessHeaders(access) })
}

export function getPayment(paymentId: string, access: OrderAccess = {}, signal?: AbortSignal) {
  return request<Payment>(`/payments/${encodeURIComponent(paymentId)}`, { signal, headers: accessHeaders(access) })
}

/** Sandbox only: pays with a test card; the outcome arrives later (poll the order). */
export function confirmSandboxPayment(paymentId: string, paymentMethod: string, access: OrderAccess = {}) {
  return request<{ paymentId: string; status: PaymentStatus }>(`/payments/${encodeURIComponent(paymentId)}/sandbox-confirm`, {
    method: 'POST', body: { paymentMethod }, headers: accessHeaders(access),
  })
}
