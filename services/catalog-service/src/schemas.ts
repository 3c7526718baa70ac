import { Type, type Static } from '@sinclair/typebox'
// A subpath, not '@flash/common': the front end type-checks this file, so no server code may come in.
import { AuditAction, AuditOutcome, OperatorRole, Page, ProductStatus, ProductId } from '@flash/common/contracts'
import { BearerToken } from './buyers/schemas.ts'

// The catalog's HTTP contract, shared by the routes (validation, serialization) and OpenAPI.
// Bodies are strict: unknown properties are refused, numbers are not coerced from strings.

export const LIMITS = {
  nameLength: 200,
  maxStock: 1_000_000,
  maxPrice: 100_000_000,
  imageUrlLength: 2048,
  maxPerUserLimit: 1000,
  maxRestock: 1_000_000,
  maxPageSize: 100,
  minPaymentWindowSeconds: 5,
  maxPaymentWindowSeconds: 86_400
} as const

// `\S`: a name of spaces only is as empty as "" (the stored name is trimmed).
const Name = Type.String({ minLength: 1, maxLength: LIMITS.nameLength, pattern: '\\S', description: '1–200 characters, not blank' })
const Price = Type.Integer({ minimum: 0, maximum: LIMITS.maxPrice, description: 'integer cents' })
const OriginalPrice = Type.Union([
  Type.Integer({ minimum: 0, maximum: LIMITS.maxPrice, description: 'integer cents before the sale, shown crossed out' }),
  Type.Null()
])
const Stock = Type.Integer({ minimum: 0, maximum: LIMITS.maxStock })
const ImageUrl = Type.Union([
  Type.String({ maxLength: LIMITS.imageUrlLength, pattern: '^https?://[^\\s]+$', description: 'http(s) URL' }),
  Type.Null()
])
const PerUserLimit = Type.Union([
  Type.Integer({ minimum: 1, maximum: LIMITS.maxPerUserLimit, description: 'units one user may hold' }),
  Type.Null()
])
const Timestamp = Type.String({ format: 'date-time' })
// A sale window bound: ISO 8601 with a time zone (stored and answered in UTC); null clears it.
const SaleBound = (description: string) => Type.Union([
  Type.String({ format: 'date-time', maxLength: 40, description }),
  Type.Null()
])
const PaymentWindowSeconds = Type.Integer({
  minimum: LIMITS.minPaymentWindowSeconds,
  maximum: LIMITS.maxPaymentWindowSeconds,
  description: 'seconds a buyer has to pay for an accepted order (priced products); unpaid orders expire and their units go back on sale'
})
/** The waiting room (docs/ARCHITECTURE.md §10): off unless an admin turns it on for the product. */
const OpensSecondsBefore = Type.Integer({ minimum: 0, maximum: 7 * 86400, description: 'how long before saleStartsAt buyers may join the room (seconds)' })
const WaitingRoom = Type.Object({
  enabled: Type.Boolean({ description: 'true: buyers join the room and order with the pass it hands them' }),
  opensSecondsBefore: OpensSecondsBefore
}, { additionalProperties: false })
const WaitingRoomChange = Type.Object({
  enabled: Type.Boolean(),
  opensSecondsBefore: Type.Optional(OpensSecondsBefore)
}, { additionalProperties: false, description: 'turn the waiting room on or off (opensSecondsBefore: 3600 when never set)' })
const SaleStartsAt = SaleBound('first instant orders are taken (UTC ISO 8601); null: on sale at once')
const SaleEndsAt = SaleBound('first instant orders are refused again; must be after saleStartsAt; null: no end')

export const Product = Type.Object({
  id: ProductId,
  name: Type.String(),
  price: Type.Integer({ description: 'integer cents' }),
  originalPrice: Type.Union([Type.Integer(), Type.Null()], { description: 'integer cents before the sale, shown crossed out; null: none' }),
  stock: Type.Integer({ description: 'live available units (Redis); MySQL stock when the product is not on sale' }),
  imageUrl: Type.Union([Type.String(), Type.Null()]),
  perUserLimit: Type.Union([Type.Integer(), Type.Null()]),
  paymentWindowSeconds: Type.Integer({ description: 'seconds to pay for an accepted order; a price of 0 needs no payment' }),
  status: ProductStatus,
  saleStartsAt: Type.Union([Timestamp, Type.Null()], { description: 'sale window start (UTC); null: on sale since creation' }),
  saleEndsAt: Type.Union([Timestamp, Type.Null()], { description: 'sale window end (UTC), exclusive; null: no end' }),
  waitingRoom: WaitingRoom,
  createdAt: Timestamp,
  updatedAt: Timestamp
})
export type Product = Static<typeof Product>

export const NewProduct = Type.Object({
  name: Name,
  stock: Stock,
  price: Type.Optional(Price),
  originalPrice: Type.Optional(OriginalPrice),
  imageUrl: Type.Optional(ImageUrl),
  perUserLimit: Type.Optional(PerUserLimit),
  paymentWindowSeconds: Type.Optional(PaymentWindowSeconds),
  saleStartsAt: Type.Optional(SaleStartsAt),
  saleEndsAt: Type.Optional(SaleEndsAt),
  waitingRoom: Type.Optional(WaitingRoomChange)
}, { additionalProperties: false })
export type NewProduct = Static<typeof NewProduct>

export const ProductChanges = Type.Object({
  name: Type.Optional(Name),
  price: Type.Optional(Price),
  originalPrice: Type.Optional(OriginalPrice),
  imageUrl: Type.Optional(ImageUrl),
  perUserLimit: Type.Optional(PerUserLimit),
  paymentWindowSeconds: Type.Optional(PaymentWindowSeconds),
  saleStartsAt: Type.Optional(SaleStartsAt),
  saleEndsAt: Type.Optional(SaleEndsAt),
  waitingRoom: Type.Optional(WaitingRoomChange)
}, { additionalProperties: false, minProperties: 1 })
export type ProductChanges = Static<typeof ProductChanges>

export const Restock = Type.Object({
  quantity: Type.Integer({ minimum: 1, maximum: LIMITS.maxRestock })
}, { additionalProperties: false })

export const ProductParams = Type.Object({ id: ProductId })

export const ProductQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: LIMITS.maxPageSize, default: 20 }),
  name: Type.Optional(Type.String({ maxLength: LIMITS.nameLength, description: 'substring of the name' })),
  // The shop lists what a buyer can still get first; sold-out pages are the last ones.
  sort: Type.Union([Type.Literal('newest'), Type.Literal('on-sale-first')], {
    default: 'newest',
    description: 'newest: by id, newest first; on-sale-first: on sale or upcoming (units left, window not over) first, then newest'
  }),
  hideSoldOut: Type.Boolean({ default: false, description: 'leave out products without units (MySQL stock) or whose sale has ended' })
}, { additionalProperties: false })
export type ProductQuery = Static<typeof ProductQuery>

/** The admin page's product list: archived ones too, by id or name. */
export const AdminProductQuery = Type.Object({
  page: ProductQuery.properties.page,
  pageSize: ProductQuery.properties.pageSize,
  status: Type.Union([Type.Literal('active'), Type.Literal('archived'), Type.Literal('all')], { default: 'all', description: 'which products: active, archived or all' }),
  search: Type.Optional(Type.String({ maxLength: LIMITS.nameLength, description: 'a product id (that product first), or a substring of the name' }))
}, { additionalProperties: false })
export type AdminProductQuery = Static<typeof AdminProductQuery>

/** `X-Admin-Context: simulator` on a create: the audit log records a simulator run. */
export const CreateHeaders = Type.Object({
  'x-admin-context': Type.Optional(Type.Literal('simulator', { description: 'the admin page\'s simulator creates its sale\'s product' }))
})

export const ProductPage = Page(Product)
export type ProductPage = Static<typeof ProductPage>

const ProductIds = Type.Array(ProductId, { minItems: 1, maxItems: 1000, uniqueItems: true })

// Optional bodies: Fastify validates an absent body as null.
export const SyncRequest = Type.Union([
  Type.Object({ productIds: Type.Optional(ProductIds) }, { additionalProperties: false }),
  Type.Null()
])

export const SyncRow = Type.Object({
  productId: Type.Integer(),
  mysqlStock: Type.Integer(),
  pending: Type.Integer({ description: 'units reserved in Redis, not yet applied in MySQL' }),
  before: Type.Union([Type.Integer(), Type.Null()]),
  after: Type.Union([Type.Integer(), Type.Null()]),
  outcome: Type.Union([Type.Literal('set'), Type.Literal('unchanged'), Type.Literal('busy')])
})
export type SyncRow = Static<typeof SyncRow>

export const SyncReport = Type.Object({ products: Type.Array(SyncRow) })
export type SyncReport = Static<typeof SyncReport>

export const ReconcileQuery = Type.Object({
  staleAfterSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400 }))
}, { additionalProperties: false })

export const ReconcileRow = Type.Object({
  productId: Type.Integer(),
  name: Type.String(),
  mysqlStock: Type.Integer(),
  redisAvailable: Type.Union([Type.Integer(), Type.Null()]),
  pending: Type.Integer(),
  agrees: Type.Boolean({ description: 'redisAvailable + pending === mysqlStock' })
})
export type ReconcileRow = Static<typeof ReconcileRow>

export const StaleReservation = Type.Object({
  productId: Type.Integer(),
  orderId: Type.String(),
  quantity: Type.Integer(),
  ageSeconds: Type.Integer()
})
export type StaleReservation = Static<typeof StaleReservation>

export const ReconcileReport = Type.Object({
  products: Type.Array(ReconcileRow),
  staleReservations: Type.Array(StaleReservation)
})
export type ReconcileReport = Static<typeof ReconcileReport>

/** @alias release-stale takes the same body as sync: some product ids, or all */
export const ReleaseStaleRequest = SyncRequest

export const ReleaseStaleReport = Type.Object({
  cutoff: Type.String({ format: 'date-time', description: 'reservations made before this were released' }),
  released: Type.Array(StaleReservation)
})

// --- the live sale view (docs/ARCHITECTURE.md §11) ---------------------------------------------------

export const LIVE_LIMITS = { productsPerView: 20 } as const

export const LiveQuery = Type.Object({
  productId: Type.Array(ProductId, {
    minItems: 1,
    maxItems: LIVE_LIMITS.productsPerView,
    uniqueItems: true,
    description: 'the products to watch, repeated: ?productId=1&productId=2 (at most 20)'
  })
}, { additionalProperties: false })

const Count = Type.Integer({ minimum: 0 })
const Millis = Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'ms (the upper bound of its histogram bucket, at most 19 % high); null: no answer in that second' })

/** One product's second: the `data` of a `point` event, and the items of a `history` event. */
export const LivePoint = Type.Object({
  productId: ProductId,
  at: Type.Integer({ description: 'the second\'s start, ms since the epoch' }),
  accepted: Type.Integer({ minimum: 0, description: 'orders answered 202 in that second, across every gateway' }),
  refused: Type.Integer({ minimum: 0, description: 'orders refused (stock, limit, window, pass, overload) in that second' }),
  p50Ms: Millis,
  p99Ms: Millis,
  stock: Type.Union([Count, Type.Null()], { description: 'units for sale now (Redis); null: not on sale' }),
  unitsHeld: Type.Integer({ minimum: 0, description: 'units of orders awaiting payment now (MySQL)' }),
  unitsPaid: Type.Integer({ minimum: 0, description: 'units of paid orders (MySQL)' }),
  unitsConfirmed: Type.Integer({ minimum: 0, description: 'units of confirmed free orders (MySQL)' }),
  kafkaLag: Type.Union([Count, Type.Null()], { description: 'orders messages not yet applied by the processors; null: no processor measured it lately' })
}, { additionalProperties: false })
export type LivePoint = Static<typeof LivePoint>

export const LiveHistory = Type.Object({ points: Type.Array(LivePoint) }, { additionalProperties: false })
export type LiveHistory = Static<typeof LiveHistory>

// --- operators and the audit log ----------------------------------------------------------------

const OperatorName = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$', description: '3–32 characters: letters, digits, _ . -' })
const OperatorPassword = Type.String({ minLength: 12, maxLength: 128, description: '12–128 characters' })

export const OperatorCredentials = Type.Object({
  username: OperatorName,
  password: Type.String({ minLength: 1, maxLength: 128 })
}, { additionalProperties: false })

export const NewOperator = Type.Object({
  username: OperatorName,
  password: OperatorPassword,
  role: OperatorRole
}, { additionalProperties: false })
export type NewOperator = Static<typeof NewOperator>

export const OperatorChange = Type.Object({ role: OperatorRole }, { additionalProperties: false })
export const OperatorParams = Type.Object({ id: ProductId })

export const OperatorView = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  role: OperatorRole,
  createdAt: Timestamp
})
export type OperatorView = Static<typeof OperatorView>
export const OperatorList = Type.Object({ items: Type.Array(OperatorView) })

/** An operator's token is for every service's admin routes; when it expires, the operator signs in again. */
export const OperatorSession = Type.Object({ operator: OperatorView, ...BearerToken })
export type OperatorSession = Static<typeof OperatorSession>

export const AuditQuery = Type.Object({
  page: ProductQuery.properties.page,
  pageSize: ProductQuery.properties.pageSize,
  productId: Type.Optional(ProductId),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '`operator:<username>` or `admin-token`' }))
}, { additionalProperties: false })
export type AuditQuery = Static<typeof AuditQuery>

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  actor: Type.String({ description: '`operator:<username>`, or `admin-token` for the break-glass ADMIN_TOKEN' }),
  actorRole: OperatorRole,
  action: AuditAction,
  productId: Type.Union([Type.Integer(), Type.Null()]),
  operatorId: Type.Union([Type.Integer(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
  outcome: AuditOutcome,
  code: Type.Union([Type.String({ description: 'the error code of a refusal or failure' }), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp
})
export type AuditEntry = Static<typeof AuditEntry>
export const AuditPage = Page(AuditEntry)
export type AuditPage = Static<typeof AuditPage>
