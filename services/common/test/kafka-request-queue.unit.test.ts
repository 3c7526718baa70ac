import t from 'tap'
import { createRequire } from 'node:module'
import { PATCHED_KAFKAJS_VERSION, quietKafkaRequestQueues } from '../src/clients/kafka-request-queue.ts'

// kafkajs's request queue re-armed a 1 ms timer after every response even with nothing waiting
// (src/clients/kafka-request-queue.ts). A real RequestQueue, no broker: what it schedules is the outcome.

const require = createRequire(import.meta.url)
interface Queue {
  pending: unknown[]
  throttledUntil: number
  throttleCheckTimeoutId: NodeJS.Timeout | null
  checkPendingRequests: () => void
  canSendSocketRequestImmediately: () => boolean
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => Queue
const silent = { debug () {}, info () {}, warn () {}, error () {} }
const queue = (): Queue => new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 1000, enforceRequestTimeout: false, clientId: 'unit', broker: 'none:0', logger: silent })

t.test('the fix is for the kafkajs version installed (an upgrade must re-examine it)', async (t) => {
  t.equal((require('kafkajs/package.json') as { version: string }).version, PATCHED_KAFKAJS_VERSION)
  t.equal(quietKafkaRequestQueues(), true, 'applied')
  t.equal(quietKafkaRequestQueues(), true, 'applying twice is harmless')
})

t.test('a response with nothing waiting arms no timer', async (t) => {
  quietKafkaRequestQueues()
  const q = queue()
  q.checkPendingRequests() // what fulfillRequest does after every response
  t.equal(q.throttleCheckTimeoutId, null, 'no polling timer left behind')
})

t.test('a waiting request still gets its check scheduled (throttled by the broker)', async (t) => {
  quietKafkaRequestQueues()
  const q = queue()
  q.throttledUntil = Date.now() + 50
  const sent: unknown[] = []
  q.pending.push({ send: () => sent.push('sent'), expectResponse: true, correlationId: 1 })
  q.canSendSocketRequestImmediately = () => Date.now() >= q.throttledUntil
  q.checkPendingRequests()
  t.not(q.throttleCheckTimeoutId, null, 'a timer for the end of the throttle')
  t.same(sent, [], 'nothing sent while throttled')
  await new Promise((resolve) => setTimeout(resolve, 120))
  t.same(sent, ['sent'], 'sent once the throttle ended')
  t.equal(q.pending.length, 0)
  t.equal(q.throttleCheckTimeoutId, null, 'and no timer after that')
})
