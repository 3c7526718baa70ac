import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import { Cluster } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import { createAccessTokenVerifier } from '@flash/common/auth'

// NOT PART OF THE PRODUCT. The naive flash-sale endpoint the project exists to correct, run by
// `make bench SCENARIOS=naive` beside ours (bench/naive/README.md). Express-style on node:http (Express
// is not a dependency here; node:http does less per request than Express would): take the units with
// DECRBY, give them back with INCRBY when the counter went below zero, `producer.send` one message per
// order and answer 202 once Kafka acknowledged it. It verifies the buyer's bearer token like ours, so
// both do the same work per request apart from the design.
//
// Environment: NAIVE_PORT (0: any), REDIS_NODES, KAFKA_BROKERS, NAIVE_TOPIC, AUTH_JWT_SECRET.

const env = process.env
const stockKey = (productId: number): string => `bench-naive:{${productId}}:stock`
const redis = new Cluster((env.REDIS_NODES ?? '127.0.0.1:7001').split(',').map((hostPort) => {
  const [host, port] = hostPort.split(':')
  return { host: host ?? '127.0.0.1', port: Number(port ?? 7001) }
}))
const kafka = new Kafka({ clientId: 'bench-naive-app', brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING })
const producer = kafka.producer()
await producer.connect()
const topic = env.NAIVE_TOPIC ?? 'bench-naive-orders'
const verify = createAccessTokenVerifier(env.AUTH_JWT_SECRET ?? '')

const json = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

async function readBody (req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) body += String(chunk)
  return body
}

async function placeOrder (req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { productId, quantity } = JSON.parse(await readBody(req)) as { productId: number, quantity: number }
  const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
  let userId: string | null = null
  if (bearer !== undefined) {
    try { userId = verify(bearer).sub } catch { json(res, 401, { code: 'UNAUTHENTICATED' }); return }
  }
  const left = await redis.decrby(stockKey(productId), quantity)
  if (left < 0) {
    await redis.incrby(stockKey(productId), quantity)
    json(res, 409, { code: 'INSUFFICIENT_STOCK', message: 'sold out' })
    return
  }
  const orderId = randomUUID()
  await producer.send({ topic, messages: [{ key: String(productId), value: JSON.stringify({ orderId, productId, quantity, userId }) }] })
  json(res, 202, { orderId, status: 'pending' })
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/orders') {
    placeOrder(req, res).catch((error: unknown) => json(res, 500, { code: 'INTERNAL_ERROR', message: String(error) }))
  } else json(res, 404, { code: 'NOT_FOUND' })
})
server.listen(Number(env.NAIVE_PORT ?? 0), '127.0.0.1', () => {
  const address = server.address()
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 })
})

const stop = (): void => {
  server.close()
  void Promise.allSettled([producer.disconnect(), redis.quit()]).then(() => process.exit(0))
}
process.on('disconnect', stop)
process.on('SIGTERM', stop)
