import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { ConfigError } from './config.ts'

export interface ServeOptions {
  service: string
  host: string
  port: number
  graceSeconds: number
}

/**
 * Listens, and on SIGTERM/SIGINT closes gracefully: Fastify stops accepting (503 while closing),
 * in-flight requests finish, then the service's onClose hooks flush the producer, commit offsets and
 * disconnect. A second signal, or the grace period running out, exits at once.
 */
export async function serve (app: FastifyInstance, options: ServeOptions): Promise<void> {
  closeWithGrace({ delay: options.graceSeconds * 1000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal }, 'closing gracefully')
    await app.close()
  })
  try {
    // A crowd opens its connections at once: Node's default accept backlog (511) drops the SYNs past
    // it, and a client waits out TCP's 1 s, 3 s, 7 s retries before its request is even read. The
    // kernel caps this at net.core.somaxconn (4096 by default).
    await app.listen({ host: options.host, port: options.port, backlog: 4096 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const reason = code === 'EADDRINUSE' ? `port ${options.port} is already in use` : (error as Error).message
    app.log.fatal({ err: error }, reason)
    process.stderr.write(`${options.service}: cannot listen on ${options.host}:${options.port}: ${reason}\n`)
    await app.close().catch(() => {})
    process.exit(1)
  }
}

/** Runs a service's start-up; a bad configuration or a failed start exits with one line naming the cause. */
export async function main (service: string, start: () => Promise<void>): Promise<void> {
  try {
    await start()
  } catch (error) {
    const message = error instanceof ConfigError
      ? error.message
      : `start-up failed: ${(error as Error).message}`
    process.stderr.write(`${service}: ${message}\n`)
    process.exit(1)
  }
}
