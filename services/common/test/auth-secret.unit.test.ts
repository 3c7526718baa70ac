import { spawn } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import {
  LOCAL_AUTH_JWT_SECRET, resolveAuthSecret, createAccessTokenSigner, createAccessTokenVerifier, createReceipts
} from '@flash/common'

// AUTH_JWT_SECRET: what production refuses, and that a service really stops on it with a
// message naming the variable, before it listens or connects anywhere.

t.test('production refuses a missing, placeholder or short secret, naming AUTH_JWT_SECRET; accepts the local value with a warning', async (t) => {
  for (const secret of ['', 'change-me', 'CHANGEME', 'secret', 'x'.repeat(31)]) {
    t.throws(() => resolveAuthSecret({ NODE_ENV: 'production', AUTH_JWT_SECRET: secret }),
      { name: 'ConfigError', message: /AUTH_JWT_SECRET/ }, `${JSON.stringify(secret)} refused`)
  }
  const strong = 'a-real-secret-of-enough-length-0123456789'
  t.same(resolveAuthSecret({ NODE_ENV: 'production', AUTH_JWT_SECRET: strong }), { secret: strong, warning: undefined })
  const local = resolveAuthSecret({ NODE_ENV: 'production', AUTH_JWT_SECRET: LOCAL_AUTH_JWT_SECRET })
  t.equal(local.secret, LOCAL_AUTH_JWT_SECRET)
  t.match(local.warning, /local-only/, 'the shipped local value works, with a warning')
  const dev = resolveAuthSecret({ NODE_ENV: 'development', AUTH_JWT_SECRET: '' })
  t.ok(dev.secret.length >= 32, 'development falls back to a fixed value')
  t.match(dev.warning, /not set/)
})

t.test('the secret in .env.example is the documented local value (make local and make up start with it)', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const example = await readFile(join(import.meta.dirname, '..', '..', '..', '.env.example'), 'utf8')
  t.match(example, new RegExp(`^AUTH_JWT_SECRET=${LOCAL_AUTH_JWT_SECRET}$`, 'm'))
})

t.test('tokens and receipts: signed with one key, refused under another; receipts bound to their order', async (t) => {
  const secret = 'unit-test-secret-0123456789abcdefghij'
  const token = createAccessTokenSigner(secret)({ id: '42', username: 'alice' })
  t.match(createAccessTokenVerifier(secret)(token), { sub: '42', name: 'alice', iss: 'flash-sale/catalog', aud: 'flash-sale/shop' })
  t.throws(() => createAccessTokenVerifier(`${secret}-other`)(token), { code: 'UNAUTHENTICATED', statusCode: 401 })
  t.throws(() => createAccessTokenVerifier(secret)('x'.repeat(5000)), { code: 'UNAUTHENTICATED' }, 'an oversized token is refused before parsing')
  const limit = Error.stackTraceLimit
  t.throws(() => createAccessTokenVerifier(secret)(`${token.slice(0, -2)}xx`), { code: 'UNAUTHENTICATED', statusCode: 401 }, 'a changed signature is refused')
  t.equal(Error.stackTraceLimit, limit, 'and stack traces are captured again after it (none while the token was checked)')
  const receipts = createReceipts(secret)
  const receipt = receipts.issue('01ORDERAAAAAAAAAAAAAAAAAAA')
  t.ok(receipts.matches('01ORDERAAAAAAAAAAAAAAAAAAA', receipt))
  t.notOk(receipts.matches('01ORDERBBBBBBBBBBBBBBBBBBB', receipt), 'not for another order')
  t.notOk(receipts.matches('01ORDERAAAAAAAAAAAAAAAAAAA', receipt.slice(0, 20)), 'not truncated')
  t.not(receipt, token.split('.')[2], 'receipts and token signatures use different keys')
})

for (const service of ['catalog-service', 'order-gateway']) {
  t.test(`${service} does not start in production without AUTH_JWT_SECRET, and says which variable`, async (t) => {
    const entry = join(import.meta.dirname, '..', '..', service, 'src', 'server.ts')
    const child = spawn(process.execPath, [entry], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'silent', CATALOG_PORT: '1', GATEWAY_PORT: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    t.equal(code, 1, 'exit code 1')
    t.match(stderr, new RegExp(`^${service}: invalid configuration: AUTH_JWT_SECRET=missing`), stderr.trim())
  })
}
