import t from 'tap'
import { Writable } from 'node:stream'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { pino } from 'pino'
import { lazyChildLogger } from '../src/platform/request-logger.ts'

// The request logger is made on the first line written (src/platform/request-logger.ts): a request
// that writes nothing makes no pino child, and a line that is written reads exactly as pino's own.

function capture (level: string): { logger: FastifyBaseLogger, lines: Array<Record<string, unknown>>, children: () => number } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _e, done) { lines.push(JSON.parse(chunk.toString())); done() } })
  const logger = pino({ level, base: { service: 'unit' } }, stream)
  let made = 0
  const child = logger.child.bind(logger)
  logger.child = ((bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => { made++; return child(bindings, options) }) as unknown as typeof logger.child
  return { logger, lines, children: () => made }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

t.test('nothing written: no child made; a disabled level writes nothing and makes none', async (t) => {
  const { logger, lines, children } = capture('info')
  const log = lazyChildLogger(logger, { requestId: 'r1' }, {})
  t.equal(log.level, 'info', 'the level is the parent\'s')
  log.debug({ a: 1 }, 'not written at info')
  log.trace('nor this')
  await flush()
  t.equal(children(), 0, 'no pino child for a request that wrote nothing')
  t.same(lines, [])
})

t.test('a written line is the same as pino\'s own child writes, bindings and all', async (t) => {
  const lazy = capture('info')
  const eager = capture('info')
  lazyChildLogger(lazy.logger, { requestId: 'r2' }, {}).warn({ orderId: 'o1' }, 'publish failed %s', 'once')
  eager.logger.child({ requestId: 'r2' }, {}).warn({ orderId: 'o1' }, 'publish failed %s', 'once')
  await flush()
  t.equal(lazy.children(), 1, 'the child is made on the first line')
  const strip = (line: Record<string, unknown> | undefined) => ({ ...line, time: 0, pid: 0, hostname: '' })
  t.same(strip(lazy.lines[0]), strip(eager.lines[0]))
  t.match(lazy.lines[0], { requestId: 'r2', orderId: 'o1', msg: 'publish failed once', level: 40, service: 'unit' })
})

t.test('a child options level (a route\'s logLevel) and a level set later are honoured', async (t) => {
  const { logger, lines } = capture('info')
  const verbose = lazyChildLogger(logger, { requestId: 'r3' }, { level: 'debug' })
  t.equal(verbose.level, 'debug')
  verbose.debug('written at the route\'s debug level')
  const quiet = lazyChildLogger(logger, { requestId: 'r4' }, {})
  quiet.level = 'error'
  quiet.warn('not written once the level is error')
  quiet.error('written')
  const silent = lazyChildLogger(logger, { requestId: 'r5' }, { level: 'silent' })
  silent.fatal('not even fatal when silent')
  await flush()
  t.same(lines.map((l) => [l.requestId, l.msg]), [['r3', 'written at the route\'s debug level'], ['r4', 'written']])
})

t.test('through Fastify: request.log lines carry the request id', async (t) => {
  const { logger, lines, children } = capture('info')
  const app = Fastify({ loggerInstance: logger, childLoggerFactory: lazyChildLogger, disableRequestLogging: true, genReqId: () => 'req-7' })
  app.get('/quiet', async () => ({ ok: true }))
  app.get('/loud', async (request) => { request.log.info({ step: 2 }, 'handled'); return { ok: true } })
  t.teardown(() => app.close())
  await app.ready()
  const before = children() // Fastify's own, at start
  t.equal((await app.inject('/quiet')).statusCode, 200)
  await flush()
  t.equal(children(), before, 'a quiet request made no child')
  t.equal((await app.inject('/loud')).statusCode, 200)
  await flush()
  t.match(lines.find((l) => l.msg === 'handled'), { reqId: 'req-7', step: 2 })
})
