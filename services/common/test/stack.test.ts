import t from 'tap'
import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { loadConfig, MysqlEnv, RedisEnv, KafkaEnv } from '../src/platform/config.ts'
import { createMysqlPool, pingMysql } from '../src/clients/mysql.ts'
import { createRedisCluster, pingRedis } from '../src/clients/redis.ts'
import { createKafka, checkTopics } from '../src/clients/kafka.ts'
import { createTopics } from '../test-support/index.ts'

// The foundation's proof: the servers `make local` started answer the way the services need.
const config = loadConfig({ ...MysqlEnv, ...RedisEnv, ...KafkaEnv })

t.test('MySQL: a row makes the round trip through the schema of init.sql', async (t) => {
  const pool = createMysqlPool(config)
  t.teardown(() => pool.end())
  await pingMysql(pool)
  const name = `stack-test-${randomUUID()}`
  const [result] = await pool.execute('INSERT INTO products (name, price, stock) VALUES (?, ?, ?)', [name, 1999, 7]) as unknown as [{ insertId: number }]
  const [rows] = await pool.execute('SELECT name, price, stock, status, per_user_limit FROM products WHERE id = ?', [result.insertId]) as unknown as [Array<Record<string, unknown>>]
  t.same(rows[0], { name, price: 1999, stock: 7, status: 'active', per_user_limit: null })
  // The UNSIGNED stock column is the last line of I1: MySQL refuses to go below zero.
  await t.rejects(pool.execute('UPDATE products SET stock = stock - 8 WHERE id = ?', [result.insertId]))
  await pool.execute('DELETE FROM products WHERE id = ?', [result.insertId])
})

t.test('Redis: a Lua script runs on a key of each of the three masters', async (t) => {
  const redis = createRedisCluster(config.REDIS_NODES)
  t.teardown(() => redis.quit())
  await pingRedis(redis)
  const masters = redis.nodes('master')
  t.equal(masters.length, 3, 'three masters')
  const slots = await redis.cluster('SLOTS') as unknown as Array<[number, number, [string, number]]>
  const ownerOf = (slot: number) => slots.find(([from, to]) => slot >= from && slot <= to)?.[2][1]
  const seen = new Set<number>()
  for (let i = 0; seen.size < 3 && i < 1000; i++) {
    const key = `stack-test:{${i}}:counter`
    const slot = Number(await redis.cluster('KEYSLOT', key))
    const port = ownerOf(slot)
    if (port === undefined || seen.has(port)) continue
    seen.add(port)
    const result = await redis.eval("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[1], 2)", 1, key, 40)
    t.equal(result, 42, `script ran on the master at port ${port}`)
    await redis.del(key)
  }
  t.equal(seen.size, 3, 'keys reached every master')
})

t.test('Kafka: a message goes through a topic and a consumer group', async (t) => {
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'stack-test', logger: pino({ level: 'silent' }) })
  const admin = kafka.admin()
  await admin.connect()
  await checkTopics(admin, [config.KAFKA_ORDERS_TOPIC, config.KAFKA_DLQ_TOPIC])
  const topic = `stack-test-${randomUUID()}`
  await createTopics(admin, [{ topic, numPartitions: 3 }])
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  const consumer = kafka.consumer({ groupId: `stack-test-${randomUUID()}` })
  t.teardown(async () => {
    await consumer.disconnect()
    await producer.disconnect()
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.disconnect()
  })
  await producer.connect()
  const sent = await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value: 'hello', headers: { 'x-request-id': 'r1' } }] })
  t.equal(sent.length, 1)
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const received = await new Promise<{ key: string, value: string, requestId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000)
    void consumer.run({
      eachMessage: async ({ message }) => {
        clearTimeout(timer)
        resolve({ key: String(message.key), value: String(message.value), requestId: String(message.headers?.['x-request-id']) })
      }
    })
  })
  t.same(received, { key: 'k1', value: 'hello', requestId: 'r1' })
  const offsets = await admin.fetchOffsets({ groupId: (consumer as unknown as { groupId?: string }).groupId ?? '', topics: [topic] }).catch(() => [])
  t.ok(Array.isArray(offsets))
})
