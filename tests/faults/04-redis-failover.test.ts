import t from 'tap'
import { Redis } from 'ioredis'
import { newOrderId, productKeys } from '@flash/common'
import { waitUntil } from '@flash/common/test-support'
import { component, prepareScenario, uniqueTag, waitReady, GATEWAY } from './support/stack.ts'
import { postProduct } from './support/catalog.ts'
import { startSale, whenStarted } from './support/load.ts'
import { checkInvariants, describeSale } from './support/invariants.ts'
import { clusterHealthy, masterOf, nodesFrom, redisComponent, REDIS_PORTS } from './support/redis-cluster.ts'

// Scenario 4: the Redis master holding the sale's product is SIGKILLed mid-sale. Its replica is
// promoted (cluster-node-timeout 5 s); replication is asynchronous, so the last acknowledged
// reservations may be lost. MySQL's guarded UPDATE is the last line: whatever Redis forgot, MySQL never
// sells more than it has. Afterwards the killed node is restarted (it rejoins as a replica) and the
// cluster is left healthy: cluster_state ok, 3 masters.

const [FIRST = 7001, SECOND = 7002] = REDIS_PORTS

t.test('a Redis master killed mid-sale: the replica takes over, the gateway recovers, no oversell in MySQL', async (t) => {
  const clients = await prepareScenario(t, [])
  const tag = uniqueTag('redis-failover')
  const stock = 1500
  const product = await postProduct(`fault ${tag}`, stock)
  const master = await masterOf(clients.redis, productKeys(product.id).stock, FIRST)
  const victim = redisComponent(master.port)
  t.teardown(async () => {
    // Leave the cluster whole for the next tests: the killed node back (as a replica), state ok.
    await component('start', victim).catch((e: Error) => console.error(e.message))
    await waitUntil('redis cluster healthy', async () => (await clusterHealthy(REDIS_PORTS)) ? true : undefined, 90_000, 1000)
      .catch((e: Error) => console.error(e.message))
  })

  const sale = startSale({ tag, products: [product.id], buyers: 2400, ratePerSecond: 200, concurrency: 40, retryDeadlineMs: 60_000 })
  await whenStarted(sale, 400)
  const killedAt = Date.now()
  t.comment(`killing ${victim} (master of product ${product.id}'s slot)`)
  t.comment(await component('kill', victim))
  const alive = REDIS_PORTS.filter((p) => p !== master.port)
  const promoted = await waitUntil('a replica promoted', async () => {
    const nodes = await nodesFrom(alive[0] as number)
    return nodes.find((n) => n.port !== master.port && n.role === 'master' && !n.failed && n.slots.length > 0 && n.slots.every(([a, b]) => master.slots.some(([x, y]) => a === x && b === y)))
  }, 30_000, 250)
  t.comment(`replica on ${promoted.port} promoted ${Date.now() - killedAt} ms after the kill`)
  const acceptedBefore = sale.progress.accepted
  await waitUntil('the gateway accepting orders again', async () => sale.progress.accepted > acceptedBefore + 20 ? true : undefined, 30_000, 100)
  t.comment(`gateway accepting orders again ${Date.now() - killedAt} ms after the kill`)

  const result = await sale.done
  t.comment(describeSale(result))
  // Restart the killed node before the checks: it must rejoin as a replica of the promoted one.
  t.comment(await component('start', victim))
  await waitUntil('redis cluster healthy', async () => (await clusterHealthy(REDIS_PORTS)) ? true : undefined, 90_000, 1000)
  // The restarted node first comes back as a slot-less master, then reconfigures itself as a replica
  // of the promoted one; the rest of the cluster learns that through gossip, so wait for it (bounded).
  const observer = master.port === FIRST ? SECOND : FIRST
  const rejoined = await waitUntil('the killed node seen as a replica', async () =>
    (await nodesFrom(observer)).find((n) => n.port === master.port && n.role === 'slave'), 30_000, 500).catch(() => undefined)
  t.equal(rejoined?.role, 'slave', 'the killed node rejoined as a replica')
  t.ok(await clusterHealthy(REDIS_PORTS), 'cluster_state ok on all six nodes, 3 masters')
  await waitReady(GATEWAY)

  const report = await checkInvariants(t, clients, {
    products: [{ id: product.id, putOnSale: stock }], sales: [result], syncBeforeConvergence: true
  })
  t.comment(`final states ${JSON.stringify(report.finalStates)}, failed ${JSON.stringify(report.failedReasons)}`)
})

// What a failover keeps: a reservation a replica has acknowledged survives its master's death. The
// cost of WAIT is measured by `make bench`, not here; this proves the acknowledgement itself.
t.test('with a replica online, WAIT 1 acknowledges every reservation, and Redis counts each once', async (t) => {
  const clients = await prepareScenario(t, [])
  const productId = 980_000_000 + Math.floor(Math.random() * 1_000_000)
  const stock = 1000
  const reservations = 200
  await clients.store.sync(productId, async () => ({ stock, status: 'active', perUserLimit: null }))
  const keys = productKeys(productId)
  t.teardown(async () => { await clients.redis.del(keys.stock, keys.info, keys.ledger, keys.users, keys.seq, keys.changes) })
  const master = await masterOf(clients.redis, keys.stock, FIRST)
  const direct = new Redis({ host: '127.0.0.1', port: master.port })
  t.teardown(() => direct.quit())
  // Right after the failover test the rejoined node may still be syncing: wait for an online replica.
  await waitUntil('an online replica of the master of the product', async () =>
    /slave\d+:.*state=online/.test(await direct.info('replication')) ? true : undefined, 60_000, 500)

  let reserved = 0
  let acknowledged = 0
  for (let i = 0; i < reservations; i++) {
    const outcome = await clients.store.reserve({ productId, orderId: newOrderId(), quantity: 1, userId: null, idempotencyTtlSeconds: 60 })
    if (outcome.kind === 'reserved') reserved++
    if (Number(await direct.call('WAIT', '1', '5000')) >= 1) acknowledged++
  }
  t.equal(reserved, reservations, 'every reservation was taken')
  t.equal(acknowledged, reservations, 'a replica acknowledged every one')
  const snapshot = await clients.store.snapshot(productId)
  t.equal(snapshot.available, stock - reservations, 'available went down once per reservation')
  t.equal(snapshot.ledger.length, reservations, 'one ledger entry per reservation')
})
