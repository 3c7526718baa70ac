import { Type, type Static, type TObject } from '@sinclair/typebox'
import { loadConfig, BaseEnv, MysqlEnv, RedisEnv, KafkaEnv, HttpEnv, AdminEnv, AuthEnv, type PollLimits } from '@flash/common'

// Every variable the gateway reads (names and defaults as in .env.example). A bad value stops the
// process at start with a message naming the variable.
export const GatewayEnv = {
  ...BaseEnv,
  ...MysqlEnv,
  ...RedisEnv,
  ...KafkaEnv,
  ...HttpEnv('GATEWAY', 3002),
  // Operators read every order with their token or the break-glass ADMIN_TOKEN; operators' and buyers'
  // access tokens are verified with AUTH_JWT_SECRET (shared with the catalog, which signs them)
  ...AdminEnv,
  ...AuthEnv,
  MAX_QUANTITY_PER_ORDER: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10 }),
  IDEMPOTENCY_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 30 * 86400, default: 86400 }),
  /** how long a request waits for Kafka's ack before its reservation is undone and it answers 503 */
  PUBLISH_TIMEOUT_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 5000 }),
  PUBLISH_LINGER_MS: Type.Integer({ minimum: 0, maximum: 1000, default: 2 }),
  PUBLISH_MAX_BATCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
  /** longest time a refusal from memory is trusted without hearing from Redis (a lost announcement) */
  STOCK_MEMORY_TTL_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
  /** event-loop delay past which new orders are answered 503 + Retry-After instead of queueing (0: never) */
  OVERLOAD_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: 200 }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 1000 }),
  RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 1 }),
  // The waiting room (docs/ARCHITECTURE.md §10); only products whose room is on use these.
  /** how long an admitted buyer's pass is valid */
  ROOM_PASS_SECONDS: Type.Integer({ minimum: 5, maximum: 3600, default: 120 }),
  /** a waiting place is freed this long after its last poll */
  ROOM_KEEP_SECONDS: Type.Integer({ minimum: 1, maximum: 86400, default: 180 }),
  /** the pollAfter a status answers the front of the line (the back polls less often: decisions.ts pollAfterMs) */
  ROOM_POLL_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 2000 }),
  /** the longest pollAfter (the back of a long line; capped at a third of ROOM_KEEP_SECONDS) */
  ROOM_POLL_MAX_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 60_000 }),
  /** the pacer's interval; 0: this gateway admits nobody */
  ROOM_TICK_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 500 }),
  /** passes that may be outstanding whatever the measured pace */
  ROOM_MIN_WINDOW: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20 }),
  /** outstanding passes = passes used per second × this */
  ROOM_WINDOW_SECONDS: Type.Number({ minimum: 0, maximum: 3600, default: 10 }),
  /** how often the gateway re-reads which products have a room */
  ROOM_REFRESH_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
  /** leading zero bits of the proof of work a guest solves to join a room (products that allow guests) */
  ROOM_GUEST_POW_BITS: Type.Integer({ minimum: 0, maximum: 30, default: 20 })
}

export type GatewayConfig = Static<TObject<typeof GatewayEnv>>

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(GatewayEnv, env)

/** How often the room's status tells a waiting buyer to poll again (decisions.ts pollAfterMs). */
export const roomPollLimits = (config: GatewayConfig): PollLimits => ({
  minMs: config.ROOM_POLL_MS,
  // The back of the line polls at least three times within the time its place is kept.
  maxMs: Math.max(config.ROOM_POLL_MS, Math.min(config.ROOM_POLL_MAX_MS, config.ROOM_KEEP_SECONDS * 1000 / 3)),
  assumedPerSecond: config.ROOM_MIN_WINDOW,
  firstWaveSeconds: config.ROOM_WINDOW_SECONDS
})
