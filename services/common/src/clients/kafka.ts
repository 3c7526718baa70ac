import { Kafka, logLevel, type LogEntry, type Admin } from 'kafkajs'
import type { Logger } from 'pino'
import { parseHostPorts } from '../platform/config.ts'
import { quietKafkaRequestQueues } from './kafka-request-queue.ts'

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug'
}

/** kafkajs logs through the service's pino logger, as JSON like everything else. */
export function createKafka (options: { brokers: string, clientId: string, logger: Logger }): Kafka {
  // No 1 ms polling loop per broker connection (./kafka-request-queue.ts).
  if (!quietKafkaRequestQueues()) options.logger.warn('kafkajs is not the version whose idle request-queue loop was fixed: check kafka-request-queue.ts')
  const log = options.logger.child({ component: 'kafka' })
  return new Kafka({
    clientId: options.clientId,
    brokers: parseHostPorts(options.brokers).map(({ host, port }) => `${host}:${port}`),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }: LogEntry) => {
      const { message, ...extra } = entry
      log[levels[level] ?? 'info']({ namespace, ...extra }, message)
    }
  })
}

/** Readiness: the broker answers metadata for the topics this service needs. */
export async function checkTopics (admin: Admin, topics: string[]): Promise<void> {
  const metadata = await admin.fetchTopicMetadata({ topics })
  const missing = topics.filter((t) => !metadata.topics.some((m) => m.name === t))
  if (missing.length > 0) throw new Error(`kafka topics missing: ${missing.join(', ')}`)
}

export type { Kafka }
