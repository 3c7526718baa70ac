// The Redis key scheme, defined once. Every key of one product carries the hash tag `{product:<id>}`,
// so they live on one cluster shard and one Lua script can change them atomically (docs/ARCHITECTURE.md §3).

export const productTag = (productId: number): string => `{product:${productId}}`

export interface ProductKeys {
  /** units available for sale right now (absent: the product is not on sale) */
  stock: string
  /**
   * hash: status (active | archived), limit (per-user limit, '' for none), starts / ends (the sale
   * window in ms epoch, '' for none; checked against Redis's clock by the reservation script)
   */
  info: string
  /** hash: userId → units the user holds (reserved or confirmed) */
  users: string
  /** hash: orderId → reservation not yet applied in MySQL (JSON {quantity, user, reservedAt, state, idempotencyRecord}) */
  ledger: string
  /** hash: change token → start time (ms) of a MySQL stock change in flight; stock sync waits for them */
  changes: string
  /** counter bumped by every stock change, so a sync can tell that MySQL moved while it read */
  seq: string
  /** prefix of the idempotency record of a request key (JSON {orderId, fingerprint}) */
  idemPrefix: string
  /** prefix of the tombstone of a released reservation: its order must fail if it ever arrives */
  voidPrefix: string
  /** prefix of the marker that a cancelled order's units went back on sale (at most once, I3) */
  returnedPrefix: string
  /** hash: the waiting room's settings (enabled, opensBefore) and counters (docs/ARCHITECTURE.md §10) */
  room: string
  /** sorted set: buyer id → queue score (pre-start: random in [0, 1), then 1 + arrival number) */
  roomQueue: string
  /** sorted set: buyer id → last join or poll (ms); old places are freed */
  roomSeen: string
  /** sorted set: buyer id → expiry (ms) of the pass the buyer holds */
  roomAdmitted: string
  /** prefix of the hash of one second of orders (`<prefix><epoch second>`): every gateway's counts, added */
  livePrefix: string
}

export function productKeys (productId: number): ProductKeys {
  const tag = productTag(productId)
  return {
    stock: `${tag}:stock`,
    info: `${tag}:info`,
    users: `${tag}:users`,
    ledger: `${tag}:ledger`,
    changes: `${tag}:changes`,
    seq: `${tag}:seq`,
    idemPrefix: `${tag}:idem:`,
    voidPrefix: `${tag}:void:`,
    returnedPrefix: `${tag}:returned:`,
    room: `${tag}:room`,
    roomQueue: `${tag}:room:queue`,
    roomSeen: `${tag}:room:seen`,
    roomAdmitted: `${tag}:room:admitted`,
    livePrefix: `${tag}:live:`
  }
}

/**
 * Pub/sub channel on which the stock scripts announce that a product's units came back or its sale
 * settings changed (message: the product's hash tag). Gateways drop what they remembered of it.
 */
export const STOCK_EVENTS_CHANNEL = 'stock:events'

/** string: a topic's consumer lag (messages), written every second by the processors, short TTL */
export const kafkaLagKey = (topic: string): string => `live:kafka-lag:${topic}`

/** string `1`, short TTL: a live view is open (the catalog refreshes it each second of a stream); the lag is measured only then */
export const LIVE_WATCHED_KEY = 'live:watched'

/** set: ids of the products whose waiting room is on (written by the catalog, copied by every gateway) */
export const ROOMS_KEY = 'rooms'

const TAG = /^\{product:(\d+)\}$/
/** The product id of a hash tag as announced on STOCK_EVENTS_CHANNEL, or null. */
export const productIdOfTag = (tag: string): number | null => {
  const match = TAG.exec(tag)
  return match === null ? null : Number(match[1])
}

/** cached product details (cache-aside, TTL, invalidated on every write) */
export const productCacheKey = (productId: number): string => `cache:product:${productId}`

/** an accepted order not yet written by the processor: lets GET /orders/:id answer `pending` */
export const pendingOrderKey = (orderId: string): string => `order:pending:${orderId}`

/**
 * failed sign-ins of one username (lower-cased, as MySQL's collation compares them) in the current
 * lockout window: past the limit, logins for it are refused without hashing until the window ends
 */
/** a proof-of-work challenge already used (TTL: until the challenge expires): one challenge, one sign-up */
export const powUsedKey = (challengeId: string): string => `pow:used:${challengeId}`

export const loginFailuresKey = (username: string): string => `auth:login-failures:${username.toLowerCase()}`
