import t, { type Test } from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { randomUUID } from 'node:crypto'
import { request } from 'undici'
import { productKeys, sleep, type Cluster } from '@flash/common'
import { waitUntil } from '@flash/common/test-support'
import { component, prepareScenario, uniqueTag, waitReady, GATEWAY } from './support/stack.ts'
import { catalogCall } from './support/catalog.ts'
import { clusterHealthy, masterOf, nodesFrom, redisComponent, REDIS_PORTS } from './support/redis-cluster.ts'
import { buyerAuthorization } from '../../bench/buyers.ts'
import { loadGatewayConfig, roomPollLimits } from '../../services/order-gateway/src/config.ts'

// Scenario 10: a waiting room mid-queue loses no place (docs/ARCHITECTURE.md §10). A crowd joins a
// product's room before the sale starts and polls as told; once admission is under way (some bought,
// some holding a pass, most waiting) the gateway is stopped and started again, then the Redis master
// holding the room is SIGKILLed right after a few late joins and its replica promoted. After each, the queue is the same
// line: who waits is exactly the back of the order taken at the start, nobody is missing, nobody got
// a second pass, and admission goes on until the product is sold out.

const [FIRST = 7001] = REDIS_PORTS
const EARLY = 80
// How long a waiting buyer may be told to wait before its next poll: the gateway's cap (the back of the
// line is told 50–100 % of it while the measured admission rate is low). A buyer admitted meanwhile
// learns it only at that poll, so a wait for the crowd to buy again must outlast it, with a margin for a
// loaded machine.
const CROWD_WAIT_MS = roomPollLimits(loadGatewayConfig()).maxMs + 15_000
const LATE = 5
const STOCK = 60

/** `lastAnswer`: what the buyer last heard (status or order, HTTP status, state or error code), for a failure's report */
interface Buyer { userId: string, passes: Set<string>, accepted: number, lastState: string, ordering: boolean, lastAnswer: string }

interface Line { waiting: string[], holding: string[] }

/** The queue and the pass holders, read in one transaction on the product's shard. */
async function readLine (redis: Cluster, productId: number): Promise<Line> {
  const keys = productKeys(productId)
  const replies = await redis.multi().zrange(keys.roomQueue, 0, -1).zrange(keys.roomAdmitted, 0, -1).exec()
  const [queue, admitted] = (replies ?? []).map(([error, value]) => {
    if (error !== null) throw error
    return value as string[]
  })
  return { waiting: queue ?? [], holding: admitted ?? [] }
}

/** A crowd member: polls its status at the pace the gateway asks, and orders with its pass once admitted. */
async function wait (productId: number, buyer: Buyer, stopped: () => boolean): Promise<void> {
  const authorization = buyerAuthorization(buyer.userId)
  const key = randomUUID()
  let pollAfterMs = 1000
  while (!stopped() && buyer.accepted === 0 && buyer.lastState !== 'sold-out') {
    try {
      const res = await request(`${GATEWAY}/rooms/${productId}/status`, { headers: { authorization }, headersTimeout: 10_000, bodyTimeout: 10_000 })
      const body = await res.body.json() as { state?: string, pass?: string | null, pollAfterMs?: number, code?: string }
      buyer.lastAnswer = `status ${res.statusCode} ${body.state ?? body.code ?? ''}`
      if (res.statusCode === 200) {
        buyer.lastState = body.state ?? 'unknown'
        pollAfterMs = body.pollAfterMs ?? pollAfterMs
        if (body.state === 'admitted' && typeof body.pass === 'string') {
          buyer.passes.add(body.pass)
          // Between the reservation using the pass and the answer, the buyer holds neither a place nor
          // a pass nor a known order: checkLine counts such a buyer as served-in-progress, not lost.
          buyer.ordering = true
          const order = await request(`${GATEWAY}/orders`, {
            method: 'POST',
            headers: { authorization, 'content-type': 'application/json', 'idempotency-key': key, 'x-room-pass': body.pass },
            body: JSON.stringify({ productId, quantity: 1 }),
            headersTimeout: 10_000,
            bodyTimeout: 10_000
          })
          const placed = await order.body.json() as { code?: string }
          buyer.lastAnswer = `order ${order.statusCode} ${placed.code ?? ''}`
          if (order.statusCode === 202) buyer.accepted++
          buyer.ordering = false
          continue
        }
      }
    } catch (error) {
      buyer.lastAnswer = `error ${(error as { code?: string }).code ?? (error as Error).message}`
      buyer.ordering = false
      // The gateway is restarting, or Redis failing over: poll again after the interval, never faster.
    }
    await sleep(pollAfterMs)
  }
}

/** Who is gone: in the line of the start but now neither waiting, holding a pass, nor served. */
function checkLine (t: Test, what: string, order: string[], line: Line, buyers: Map<string, Buyer>): void {
  const waiting = new Set(line.waiting)
  const holding = new Set(line.holding)
  const lost = order.filter((id) => !waiting.has(id) && !holding.has(id) && (buyers.get(id)?.accepted ?? 0) === 0 && buyers.get(id)?.ordering !== true)
  t.same(lost, [], `${what}: nobody lost their place`)
  t.same(line.waiting, order.slice(order.length - line.waiting.length), `${what}: those waiting are the back of the line, in its order`)
}

t.test('a waiting room mid-queue: a Redis failover and a gateway restart lose no place, admit nobody twice, and admission goes on', async (t) => {
  const clients = await prepareScenario(t, ['order-gateway'])
  const tag = uniqueTag('room-restart')
  const redis = clients.redis
  const startsAt = Date.now() + 4000
  const created = await catalogCall<{ id: number }>('POST', '/products', {
    name: `fault ${tag}`,
    stock: STOCK,
    price: 0,
    perUserLimit: 1,
    saleStartsAt: new Date(startsAt).toISOString(),
    waitingRoom: { enabled: true, opensSecondsBefore: 3600 }
  })
  t.equal(created.status, 201, 'product with a waiting room created')
  const productId = created.body.id
  t.teardown(async () => { await catalogCall('PATCH', `/products/${productId}`, { waitingRoom: { enabled: false } }) })

  const master = await masterOf(redis, productKeys(productId).room, FIRST)
  const victim = redisComponent(master.port)
  t.teardown(async () => {
    await component('start', victim).catch((e: Error) => console.error(e.message))
    await waitUntil('redis cluster healthy', async () => (await clusterHealthy(REDIS_PORTS)) ? true : undefined, 90_000, 1000)
      .catch((e: Error) => console.error(e.message))
  })

  // The catalog announced the room; the gateway answers joins once it has copied the `rooms` set.
  const buyers = new Map<string, Buyer>()
  const crowd: Array<Promise<void>> = []
  let stop = false
  t.teardown(async () => { stop = true; await Promise.all(crowd) })
  /** A buyer joins (retrying until the gateway knows the room), then waits in the crowd. */
  const join = async (userId: string): Promise<void> => {
    const status = await waitUntil(`${userId} joins`, async () => {
      const joined = await request(`${GATEWAY}/rooms/${productId}/join`, { method: 'POST', headers: { authorization: buyerAuthorization(userId) } })
      await joined.body.dump()
      return joined.statusCode === 200 ? joined.statusCode : undefined
    }, 10_000, 100)
    t.equal(status, 200, `${userId} joined`)
    const buyer: Buyer = { userId, passes: new Set<string>(), accepted: 0, lastState: 'joined', ordering: false, lastAnswer: 'joined' }
    buyers.set(userId, buyer)
    crowd.push(wait(productId, buyer, () => stop))
  }
  for (let i = 0; i < EARLY; i++) await join(`${tag}-${i}`)
  const order = (await readLine(redis, productId)).waiting
  t.equal(order.length, EARLY, 'every buyer holds one place')
  t.ok(Date.now() < startsAt, 'everyone joined before the start')
  const served = (): number => [...buyers.values()].filter((b) => b.accepted > 0).length
  /** What the unserved buyers last heard, counted: said when a wait for sales times out. */
  const heard = (): string => {
    const counts = new Map<string, number>()
    for (const b of buyers.values()) if (b.accepted === 0) counts.set(b.lastAnswer, (counts.get(b.lastAnswer) ?? 0) + 1)
    return [...counts].map(([answer, n]) => `${n} × ${answer}`).join(', ')
  }
  const salesGoOn = async (what: string): Promise<void> => {
    const from = served()
    await waitUntil(what, async () => served() > from ? true : undefined, CROWD_WAIT_MS, 100)
      .catch((error: Error) => { throw new Error(`${error.message}; the unserved last heard: ${heard()}`) })
  }

  // Mid-queue: some bought, some hold a pass, most wait. The gateway (and its pacer) is stopped
  // and started again.
  await waitUntil('the first buyers served', async () => served() >= 5 ? true : undefined, CROWD_WAIT_MS, 100)
  t.comment(await component('stop', 'order-gateway'))
  const stopped = await readLine(redis, productId)
  t.ok(stopped.waiting.length > 0, `mid-queue: ${served()} served, ${stopped.holding.length} holding a pass, ${stopped.waiting.length} waiting`)
  checkLine(t, 'gateway stopped', order, stopped, buyers)
  t.comment(await component('start', 'order-gateway'))
  await waitReady(GATEWAY)
  checkLine(t, 'gateway restarted', order, await readLine(redis, productId), buyers)
  await salesGoOn('admission and sales go on after the restart')

  // Still mid-queue: the room's Redis master dies.
  const before = await readLine(redis, productId)
  t.ok(before.waiting.length > 0, `mid-queue: ${served()} served, ${before.holding.length} holding a pass, ${before.waiting.length} waiting`)
  checkLine(t, 'before the failover', order, before, buyers)
  // Late arrivals join at the back, in arrival order; the master dies right after their answers
  // (a join answers once a replica holds the place).
  for (let i = 0; i < LATE; i++) {
    await join(`${tag}-late-${i}`)
    order.push(`${tag}-late-${i}`)
  }
  const killedAt = Date.now()
  t.comment(await component('kill', victim))
  const alive = REDIS_PORTS.filter((p) => p !== master.port)
  const promoted = await waitUntil('a replica promoted', async () => {
    const nodes = await nodesFrom(alive[0] as number)
    return nodes.find((n) => n.port !== master.port && n.role === 'master' && !n.failed && master.slots.every(([a, b]) => n.slots.some(([x, y]) => a === x && b === y)))
  }, 30_000, 250)
  t.comment(`replica on ${promoted.port} promoted ${Date.now() - killedAt} ms after the kill`)
  // The killed node comes back (as a replica) while the crowd goes on.
  const rejoined = component('start', victim)
  const afterFailover = await waitUntil('the room readable on the promoted master', async () => await readLine(redis, productId).catch(() => undefined), 30_000, 250)
  checkLine(t, 'after the failover', order, afterFailover, buyers)
  await salesGoOn('admission and sales go on after the failover')
  t.comment(`${served()} served ${Date.now() - killedAt} ms after the kill`)
  t.comment(await rejoined)

  // To the end: every unit sold through a pass, the rest told sold out and still in line.
  await waitUntil('every buyer served or told sold out', async () =>
    [...buyers.values()].every((b) => b.accepted > 0 || b.lastState === 'sold-out') ? true : undefined, CROWD_WAIT_MS, 200)
  stop = true
  await Promise.all(crowd)
  const end = await readLine(redis, productId)
  checkLine(t, 'at the end', order, end, buyers)
  const servedBuyers = [...buyers.values()].filter((b) => b.accepted > 0)
  t.equal(servedBuyers.length, STOCK, 'every unit sold, each to a buyer admitted from the room')
  t.same([...buyers.values()].filter((b) => b.accepted > 1 || b.passes.size > 1).map((b) => b.userId), [], 'nobody admitted twice or served twice')
  t.equal(end.waiting.length, EARLY + LATE - STOCK - end.holding.length, 'everyone not served still holds a place (or a pass)')
  const counters = await redis.hgetall(productKeys(productId).room)
  t.equal(Number(counters.admitted), STOCK + end.holding.length, 'the room admitted each served buyer once')
  t.equal(Number(counters.bought), STOCK, 'and counted each pass used once')
  const rows = await waitUntil('every order final in MySQL', async () => {
    const [found] = await clients.mysql.query<RowDataPacket[]>('SELECT user_id AS userId, status FROM orders WHERE product_id = ?', [productId])
    return found.length === STOCK ? found as Array<{ userId: string, status: string }> : undefined
  }, 30_000, 250)
  t.same(rows.filter((r) => r.status !== 'confirmed'), [], 'every order confirmed in MySQL')
  t.equal(new Set(rows.map((r) => r.userId)).size, STOCK, 'one order per buyer')
  t.same(rows.map((r) => r.userId).filter((id) => buyers.get(id)?.accepted !== 1).sort(), [], 'and only by buyers the room admitted')
  const [[product]] = await clients.mysql.query<RowDataPacket[]>('SELECT stock FROM products WHERE id = ?', [productId]) as unknown as [RowDataPacket[]]
  t.equal(Number(product?.stock), 0, 'MySQL stock 0: no oversell')
  await waitUntil('redis cluster healthy', async () => (await clusterHealthy(REDIS_PORTS)) ? true : undefined, 60_000, 1000)
})
