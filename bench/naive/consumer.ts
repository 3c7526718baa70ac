import { Kafka, logLevel } from 'kafkajs'
import { createPool } from 'mysql2/promise'

// NOT PART OF THE PRODUCT. The naive app's consumer (bench/naive/README.md): one MySQL transaction
// per message — insert the order, take the stock — with kafkajs's defaults (one partition at a time,
// offsets committed after the handler). No idempotency: a message applied twice is two orders.
//
// Environment: MYSQL_HOST/PORT/USER/PASSWORD/DATABASE, KAFKA_BROKERS, NAIVE_TOPIC, NAIVE_GROUP.

const env = process.env
const pool = createPool({
  host: env.MYSQL_HOST ?? '127.0.0.1',
  port: Number(env.MYSQL_PORT ?? 3306),
  user: env.MYSQL_USER ?? 'flash',
  password: env.MYSQL_PASSWORD ?? 'flash',
  database: env.MYSQL_DATABASE ?? 'flash_sale',
  connectionLimit: 5
})
const kafka = new Kafka({ clientId: 'bench-naive-consumer', brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING })
const consumer = kafka.consumer({ groupId: env.NAIVE_GROUP ?? 'bench-naive' })
await consumer.connect()
await consumer.subscribe({ topic: env.NAIVE_TOPIC ?? 'bench-naive-orders', fromBeginning: true })
await consumer.run({
  eachMessage: async ({ message }) => {
    const order = JSON.parse(String(message.value)) as { orderId: string, productId: number, quantity: number, userId: string | null }
    const connection = await pool.getConnection()
    try {
      await connection.beginTransaction()
      await connection.query('INSERT INTO bench_naive_orders (order_ref, product_id, user_id, quantity) VALUES (?, ?, ?, ?)',
        [order.orderId, order.productId, order.userId, order.quantity])
      await connection.query('UPDATE bench_naive_products SET stock = stock - ? WHERE id = ?', [order.quantity, order.productId])
      await connection.commit()
    } catch (error) {
      await connection.rollback().catch(() => {})
      throw error
    } finally {
      connection.release()
    }
  }
})
process.send?.({ running: true })

const stop = (): void => { void Promise.allSettled([consumer.disconnect(), pool.end()]).then(() => process.exit(0)) }
process.on('disconnect', stop)
process.on('SIGTERM', stop)
