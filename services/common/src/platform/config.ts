import { Type, type Static, type TObject, type TProperties, type TString, type TInteger } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

// Configuration comes from environment variables (the same names in `make local` and Docker Compose,
// documented in .env.example). Each service validates its variables at start: a bad or missing value
// stops the process with one line naming the variable, before anything listens or connects.

const Port = (fallback: number) => Type.Integer({ minimum: 1, maximum: 65535, default: fallback })

/** nginx on loopback (`make local`) or on the Compose network (private ranges) */
export const DEFAULT_TRUSTED_PROXIES = 'loopback,linklocal,uniquelocal'

export const BaseEnv = {
  NODE_ENV: Type.Union([Type.Literal('production'), Type.Literal('development'), Type.Literal('test')], { default: 'production' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  SHUTDOWN_GRACE_SECONDS: Type.Integer({ minimum: 1, maximum: 300, default: 10 }),
  /**
   * Proxies whose X-Forwarded-For is believed (comma separated: addresses, CIDRs, or proxy-addr's
   * names loopback, linklocal, uniquelocal). The default fits nginx on loopback (make local) or on the
   * Compose network; narrow it where buyers can reach a service from a private range directly.
   */
  TRUSTED_PROXIES: Type.String({ pattern: '^[0-9A-Za-z.:/_-]+(,[0-9A-Za-z.:/_-]+)*$', default: DEFAULT_TRUSTED_PROXIES })
}

export const MysqlEnv = {
  MYSQL_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  MYSQL_PORT: Port(3306),
  MYSQL_USER: Type.String({ minLength: 1, default: 'flash' }),
  MYSQL_PASSWORD: Type.String({ default: 'flash' }),
  MYSQL_DATABASE: Type.String({ minLength: 1, default: 'flash_sale' }),
  MYSQL_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 500, default: 20 })
}

export const RedisEnv = {
  REDIS_NODES: Type.String({
    pattern: '^[^,:\\s]+:\\d{1,5}(,[^,:\\s]+:\\d{1,5})*$',
    default: '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005,127.0.0.1:7006'
  })
}

export const KafkaEnv = {
  KAFKA_BROKERS: Type.String({ pattern: '^[^,:\\s]+:\\d{1,5}(,[^,:\\s]+:\\d{1,5})*$', default: '127.0.0.1:9092' }),
  KAFKA_CLIENT_ID: Type.String({ minLength: 1, default: 'flash-sale' }),
  KAFKA_ORDERS_TOPIC: Type.String({ minLength: 1, default: 'orders' }),
  KAFKA_DLQ_TOPIC: Type.String({ minLength: 1, default: 'orders.dlq' }),
  KAFKA_ORDERS_PARTITIONS: Type.Integer({ minimum: 1, maximum: 1000, default: 12 })
}

export const DEFAULT_CURRENCY = 'cny'
export const DEFAULT_PAYMENT_WINDOW_SECONDS = 600

export const PaymentEnv = {
  /** the currency of every priced order (lower-case ISO 4217, as the provider spells it) */
  PAYMENT_CURRENCY: Type.String({ pattern: '^[a-z]{3}$', default: DEFAULT_CURRENCY }),
  /** a product's payment window when its creator names none (seconds) */
  PAYMENT_WINDOW_SECONDS: Type.Integer({ minimum: 5, maximum: 86_400, default: DEFAULT_PAYMENT_WINDOW_SECONDS })
}

export const AdminEnv = {
  ADMIN_TOKEN: Type.String({ minLength: 8, default: 'local-only-flash-sale-admin-token-replace-me-in-any-real-deployment' })
}

/** `<PREFIX>_HOST` and `<PREFIX>_PORT` of one service's HTTP listener. */
export function HttpEnv<P extends string> (prefix: P, port: number): Record<`${P}_HOST`, TString> & Record<`${P}_PORT`, TInteger> {
  return {
    [`${prefix}_HOST`]: Type.String({ minLength: 1, default: '0.0.0.0' }),
    [`${prefix}_PORT`]: Port(port)
  } as Record<`${P}_HOST`, TString> & Record<`${P}_PORT`, TInteger>
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`)
    this.problems = problems
    this.name = 'ConfigError'
  }
}

/**
 * Reads and validates the variables `properties` names from `env`. Numbers arrive as strings and are
 * converted; absent variables take their defaults; anything else that does not fit is a ConfigError
 * that names every offending variable.
 */
export function loadConfig<P extends TProperties> (properties: P, env: NodeJS.ProcessEnv = process.env): Static<TObject<P>> {
  const schema = Type.Object(properties)
  const raw: Record<string, unknown> = {}
  for (const name of Object.keys(properties)) {
    const value = env[name]
    if (value !== undefined && value !== '') raw[name] = value
  }
  const withDefaults = Value.Default(schema, raw)
  const converted = Value.Convert(schema, withDefaults)
  if (Value.Check(schema, converted)) return converted as Static<TObject<P>>
  const problems: string[] = []
  for (const error of Value.Errors(schema, converted)) {
    const name = error.path.replace(/^\//, '')
    const shown = name in raw ? JSON.stringify(raw[name]) : 'missing'
    problems.push(`${name}=${shown}: ${error.message}`)
  }
  throw new ConfigError([...new Set(problems)])
}

/** host:port list → [{host, port}] (the shape ioredis and kafkajs take) */
export function parseHostPorts (list: string): Array<{ host: string, port: number }> {
  return list.split(',').map((entry) => {
    const [host = '', port = ''] = entry.trim().split(':')
    return { host, port: Number(port) }
  })
}
