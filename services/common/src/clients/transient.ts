// The one list of errors that go away by themselves: a dependency (MySQL, Redis, Kafka) restarting,
// failing over or contended. The HTTP services answer them 503 + Retry-After (nothing about the request
// was wrong); the processor retries them with backoff and logs them as warnings rather than errors.

const TRANSIENT_CODES = new Set([
  // sockets and DNS
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  // mysql2 / MySQL / MariaDB
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_QUERY_INTERRUPTED', 'ER_CONNECTION_KILLED', 'ER_CLIENT_INTERACTION_TIMEOUT'
])

const TRANSIENT_NAMES = new Set([
  // ioredis
  'MaxRetriesPerRequestError', 'ClusterAllFailedError',
  // KafkaJS: a producer whose retries ran out is still a broker that is away, not a bad request
  'KafkaJSConnectionError', 'KafkaJSNumberOfRetriesExceeded', 'KafkaJSRequestTimeoutError', 'KafkaJSNonRetriableError'
])

const TRANSIENT_MESSAGE = new RegExp([
  // Redis Cluster resharding, failover, a replica promoted, a node still loading
  'CLUSTERDOWN', 'TRYAGAIN', 'LOADING', 'MASTERDOWN', 'READONLY', "Cluster isn't ready", 'All nodes failed',
  'Failed to refresh slots', 'max retries per request', 'Too many Cluster redirections', 'Connection is closed',
  // mysql2's pool after end() during a restart, and timeouts of any client
  'Pool is closed', 'connect ETIMEDOUT', 'socket', 'timed? ?out'
].join('|'), 'i')

/** True when `error` is one a retry can cure (a client marks its own with `transient` or `retriable`). */
export function isTransientError (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown, name?: unknown, message?: unknown, transient?: unknown, retriable?: unknown }
  if (e.transient === true || e.retriable === true) return true
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true
  if (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) return true
  return typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)
}
