import t from 'tap'
import { LOCAL_ADMIN_TOKEN, resolveAdminToken } from '../src/admin-token.ts'
import { buildApp } from '../src/app.ts'
import { loadCatalogConfig } from '../src/config.ts'

// ADMIN_TOKEN: what a production start of the catalog refuses, and that the catalog really stops on it
// with a message naming the variable, before it connects anywhere.

t.test('production refuses a placeholder or short admin token, naming ADMIN_TOKEN; accepts the local value with a warning', async (t) => {
  for (const token of ['change-me-admin-token', 'CHANGE-ME', 'admin-token', 'password', 'x'.repeat(23)]) {
    t.throws(() => resolveAdminToken({ NODE_ENV: 'production', ADMIN_TOKEN: token }),
      { name: 'ConfigError', message: /ADMIN_TOKEN/ }, `${JSON.stringify(token)} refused`)
  }
  const strong = 'a-real-admin-token-of-enough-length-0123'
  t.same(resolveAdminToken({ NODE_ENV: 'production', ADMIN_TOKEN: strong }), { token: strong, warning: undefined })
  const local = resolveAdminToken({ NODE_ENV: 'production', ADMIN_TOKEN: LOCAL_ADMIN_TOKEN })
  t.equal(local.token, LOCAL_ADMIN_TOKEN)
  t.match(local.warning, /local-only/, 'the shipped local value works, with a warning')
  t.same(resolveAdminToken({ NODE_ENV: 'development', ADMIN_TOKEN: 'change-me-admin-token' }),
    { token: 'change-me-admin-token', warning: undefined }, 'development keeps whatever the schema accepts')
})

t.test('the catalog does not start in production on the shipped placeholder, before it opens a client', async (t) => {
  // MySQL and Redis point nowhere: the refusal must come first, not a connection error.
  const config = loadCatalogConfig({
    NODE_ENV: 'production', ADMIN_TOKEN: 'change-me-admin-token', AUTH_JWT_SECRET: 'a-real-secret-of-enough-length-0123456789',
    MYSQL_HOST: '127.0.0.1', MYSQL_PORT: '1', REDIS_NODES: '127.0.0.1:1', LOG_LEVEL: 'silent',
  })
  await t.rejects(buildApp(config), { name: 'ConfigError', message: /ADMIN_TOKEN is a placeholder/ })
})

t.test('the token in .env.example is the documented local value (make local and make up start with it)', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const example = await readFile(join(import.meta.dirname, '..', '..', '..', '.env.example'), 'utf8')
  t.match(example, new RegExp(`^ADMIN_TOKEN=${LOCAL_ADMIN_TOKEN}$`, 'm'))
})
