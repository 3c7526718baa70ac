import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'

export type ReadinessCheck = () => Promise<void>

const CHECK_TIMEOUT_MS = 2000

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.String()))
})

async function runCheck (check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      check(),
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS) })
    ])
    return 'ok'
  } catch (error) {
    return `error: ${(error as Error).message}`
  } finally {
    clearTimeout(timer)
  }
}

/**
 * `/health/live`: the process answers. `/health/ready`: every dependency answers (503 otherwise, and
 * 503 while shutting down, so a load balancer stops sending before the server stops accepting).
 */
export function registerHealth (app: FastifyInstance, checks: Map<string, ReadinessCheck>): void {
  let closing = false
  app.addHook('preClose', async () => { closing = true })

  app.get('/health/live', { schema: { tags: ['health'], response: { 200: Health } } }, async () => ({ status: 'ok' as const }))

  app.get('/health/ready', { schema: { tags: ['health'], response: { 200: Health, 503: Health } } }, async (_request, reply) => {
    const names = [...checks.keys()]
    const results = await Promise.all([...checks.values()].map(runCheck))
    const report = Object.fromEntries(names.map((name, i) => [name, results[i] ?? 'error']))
    const ok = !closing && results.every((r) => r === 'ok')
    if (closing) report.shutdown = 'in progress'
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: report })
  })
}
