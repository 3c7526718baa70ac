import { pino, type Logger, type LoggerOptions } from 'pino'

// pino JSON logs, one line per event, with the service name on every line. Request ids are bound per
// request by Fastify under `requestId` (platform/app.ts, requestIdLogLabel) and carried gateway → Kafka header → processor.

export function loggerOptions (service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Secrets never reach a log line: tokens, cookies, and passwords wherever an object carries one.
    redact: {
      paths: [
        'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-order-receipt"]', 'res.headers["set-cookie"]',
        'password', 'currentPassword', 'newPassword', 'accessToken', 'refreshToken',
        '*.password', '*.currentPassword', '*.newPassword', '*.accessToken', '*.refreshToken'
      ],
      censor: '[redacted]'
    }
  }
}

export function createLogger (service: string, level: string): Logger {
  return pino(loggerOptions(service, level))
}

export type { Logger }
