import Fastify from 'fastify'
import { newOrderId } from '@flash/common/contracts'

// The HTTP ceiling: a bare Fastify POST route that parses the same JSON body and answers the same
// `202 {orderId, status}` as the gateway, with nothing behind it. It runs as a child process of the
// bench so it does not share the load generator's event loop; it tells the parent its port over IPC.

const app = Fastify({ logger: false })

app.post('/orders', async (_request, reply) => {
  return reply.code(202).send({ orderId: newOrderId(), status: 'pending' })
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.BARE_PORT ?? 0) })
const address = app.server.address()
const port = typeof address === 'object' && address !== null ? address.port : 0
process.send?.({ port })
// The parent ends the run by disconnecting the IPC channel (or by SIGTERM).
process.on('disconnect', () => { void app.close().then(() => process.exit(0)) })
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
