import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LOCAL_ADMIN_TOKEN } from '@flash/common'
import { buildApp as buildCatalog } from '../../services/catalog-service/src/app.ts'
import { loadCatalogConfig } from '../../services/catalog-service/src/config.ts'
import { buildApp as buildGateway } from '../../services/order-gateway/src/app.ts'
import { loadGatewayConfig } from '../../services/order-gateway/src/config.ts'
import { buildApp as buildPayments } from '../../services/payment-service/src/app.ts'
import { loadPaymentConfig } from '../../services/payment-service/src/config.ts'

// ADMIN_TOKEN: every service that accepts it (catalog, gateway, payment) stops a production start on a
// placeholder or short value, with a message naming the variable, before it opens any client. The
// policy itself is one function in services/common (auth/operators.ts, its unit test there).

// MySQL, Redis and Kafka point nowhere: the refusal must come first, not a connection error.
const nowhere = {
  NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-real-secret-of-enough-length-0123456789', LOG_LEVEL: 'silent',
  MYSQL_HOST: '127.0.0.1', MYSQL_PORT: '1', REDIS_NODES: '127.0.0.1:1', KAFKA_BROKERS: '127.0.0.1:1'
}

const services = [
  ['catalog', (env: NodeJS.ProcessEnv) => buildCatalog(loadCatalogConfig(env))],
  ['gateway', (env: NodeJS.ProcessEnv) => buildGateway(loadGatewayConfig(env))],
  ['payment', (env: NodeJS.ProcessEnv) => buildPayments(loadPaymentConfig(env))]
] as const

for (const [service, build] of services) {
  t.test(`the ${service} does not start in production on a placeholder or short ADMIN_TOKEN, before it opens a client`, async (t) => {
    await t.rejects(build({ ...nowhere, ADMIN_TOKEN: 'change-me-admin-token' }), { name: 'ConfigError', message: /ADMIN_TOKEN is a placeholder/ })
    await t.rejects(build({ ...nowhere, ADMIN_TOKEN: 'x'.repeat(23) }), { name: 'ConfigError', message: /ADMIN_TOKEN is too short \(23 characters\)/ })
  })
}

t.test('the token in .env.example is the documented local value (make local and make up start with it)', async (t) => {
  const example = await readFile(join(import.meta.dirname, '..', '..', '.env.example'), 'utf8')
  t.match(example, new RegExp(`^ADMIN_TOKEN=${LOCAL_ADMIN_TOKEN}$`, 'm'))
})
