import { Type, type Static, type TObject } from '@sinclair/typebox'
import { loadConfig, BaseEnv, MysqlEnv, RedisEnv, KafkaEnv, HttpEnv, PaymentEnv } from '@flash/common'

export const ProcessorEnv = {
  ...BaseEnv,
  ...MysqlEnv,
  ...RedisEnv,
  ...KafkaEnv,
  ...HttpEnv('PROCESSOR', 3003),
  PAYMENT_CURRENCY: PaymentEnv.PAYMENT_CURRENCY,
  /** how often each processor looks for payment holds past their deadline (ms; 0 = this one never does) */
  PAYMENT_EXPIRY_SCAN_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 500 }),
  KAFKA_GROUP_ID: Type.String({ minLength: 1, default: 'order-processor' }),
  /**
   * Most messages applied in one MySQL transaction (a Kafka batch is split into chunks of this size).
   * A flash sale is one product, whose row lock serializes the transactions: the orders per
   * transaction, not the partitions at once, set how fast a backlog drains.
   */
  PROCESSOR_MAX_BATCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 2000 }),
  /** partitions processed at once by one instance (each in its own transaction) */
  PROCESSOR_PARTITIONS_CONCURRENTLY: Type.Integer({ minimum: 1, maximum: 100, default: 4 }),
  /**
   * A fetch waits until this many bytes arrived or PROCESSOR_FETCH_MAX_WAIT_MS passed: during a sale
   * each transaction then carries tens of orders instead of a handful (fewer commits, less CPU taken
   * from the gateway on a shared machine), at the cost of at most that wait when traffic is thin.
   */
  PROCESSOR_FETCH_MIN_BYTES: Type.Integer({ minimum: 1, maximum: 10_485_760, default: 65_536 }),
  PROCESSOR_FETCH_MAX_WAIT_MS: Type.Integer({ minimum: 1, maximum: 5000, default: 100 })
}

export type ProcessorConfig = Static<TObject<typeof ProcessorEnv>>

export function loadProcessorConfig (env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  return loadConfig(ProcessorEnv, env)
}
