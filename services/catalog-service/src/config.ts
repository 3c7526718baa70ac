import { Type } from '@sinclair/typebox'
import { loadConfig, BaseEnv, MysqlEnv, RedisEnv, AdminEnv, AuthEnv, HttpEnv, PaymentEnv, KafkaEnv } from '@flash/common'

// The catalog's variables (documented in .env.example). A bad value stops the service at start with
// a message naming the variable.
export const CatalogEnv = {
  ...BaseEnv,
  ...MysqlEnv,
  ...RedisEnv,
  ...AdminEnv,
  ...AuthEnv,
  ...HttpEnv('CATALOG', 3001),
  PAYMENT_WINDOW_SECONDS: PaymentEnv.PAYMENT_WINDOW_SECONDS,
  // the live sale view shows this topic's consumer lag, as the processors report it (no Kafka client here)
  KAFKA_ORDERS_TOPIC: KafkaEnv.KAFKA_ORDERS_TOPIC,
  PRODUCT_CACHE_TTL_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 30 }),
  // A reservation still unclaimed in the ledger after this long belongs to a gateway that died before
  // publishing; its units are released. Far above the gateway's publish timeout, so a live request is
  // never released under it.
  STALE_RESERVATION_SECONDS: Type.Integer({ minimum: 10, maximum: 86_400, default: 120 }),
  // How often this instance sweeps for stale reservations by itself; 0 = never (another replica
  // sweeps, or an operator calls POST /admin/stock/release-stale). A sweep reads every product's ledger.
  STALE_SWEEP_SECONDS: Type.Integer({ minimum: 0, maximum: 86_400, default: 30 }),
  // Buyer sign-in. Register and login cost a scrypt hash each: limited per client address
  // (in process) and, for login, per username (failures counted in Redis, then a lockout window).
  AUTH_RATE_LIMIT_MAX: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 60 }),
  AUTH_RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
  LOGIN_MAX_FAILURES: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  LOGIN_LOCKOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 900 }),
  // Sign-ups a bot cannot buy for free (docs/ARCHITECTURE.md §10): a proof of work of this many
  // leading zero bits (2^bits SHA-256 on average; 0 = none), and at most this many sign-ups per
  // client address per hour in this process (0 = no limit beyond AUTH_RATE_LIMIT_MAX).
  SIGNUP_POW_BITS: Type.Integer({ minimum: 0, maximum: 30, default: 0 }),
  SIGNUP_LIMIT_PER_HOUR: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })
}

export type CatalogConfig = ReturnType<typeof loadCatalogConfig>

export function loadCatalogConfig (env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(CatalogEnv, env)
}
