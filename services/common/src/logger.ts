import { pino, type Logger, type LoggerOptions } from 'pino'

// pino JSON logs, one line per event, with the service name on every line. Request ids are bound per
// request by Fastify under `requestId` (platform/app.ts, requestIdLogLabel) and carried gateway → Kafka header → processor.

export function loggerOptions (service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization'], censor: '[redacted]' }
  }
}

export function createLogger (service: string, level: string): Logger {
  return pino(loggerOptions(service, level))
}

export type { Logger }
