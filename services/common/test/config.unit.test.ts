import t from 'tap'
import { loadConfig, ConfigError, MysqlEnv, KafkaEnv, HttpEnv, parseHostPorts } from '../src/platform/config.ts'

t.test('absent variables take their documented defaults', async (t) => {
  const config = loadConfig({ ...MysqlEnv, ...KafkaEnv }, {})
  t.equal(config.MYSQL_PORT, 3306)
  t.equal(config.MYSQL_DATABASE, 'flash_sale')
  t.equal(config.KAFKA_ORDERS_TOPIC, 'orders')
  t.equal(config.KAFKA_ORDERS_PARTITIONS, 12)
})

t.test('numbers arrive as strings and are converted', async (t) => {
  const config = loadConfig({ ...MysqlEnv, ...HttpEnv('GATEWAY', 3002) }, { MYSQL_PORT: '3307', GATEWAY_PORT: '4000' })
  t.equal(config.MYSQL_PORT, 3307)
  t.equal(config.GATEWAY_PORT, 4000)
})

t.test('a bad value stops start-up with a message naming the variable', async (t) => {
  const error = t.throws(() => loadConfig({ ...MysqlEnv }, { MYSQL_PORT: 'abc' })) as ConfigError
  t.ok(error instanceof ConfigError)
  t.match(error.message, /MYSQL_PORT="abc"/)
  t.equal(error.problems.length, 1)
})

t.test('every offending variable is named, not just the first', async (t) => {
  const error = t.throws(() => loadConfig({ ...MysqlEnv, ...KafkaEnv }, { MYSQL_PORT: '99999', KAFKA_BROKERS: 'no port here' })) as ConfigError
  t.match(error.message, /MYSQL_PORT/)
  t.match(error.message, /KAFKA_BROKERS/)
})

t.test('host:port lists parse into the shape the clients take', async (t) => {
  t.same(parseHostPorts('a:1,b:2'), [{ host: 'a', port: 1 }, { host: 'b', port: 2 }])
})
