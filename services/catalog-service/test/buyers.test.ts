import t from 'tap'
import {
  ACCESS_COOKIE, REFRESH_COOKIE, ErrorCode, createAccessTokenVerifier, loginFailuresKey, sleep
} from '@flash/common'
import type { RowDataPacket } from 'mysql2/promise'
import { testStack, uniqueName } from '@flash/common/test-support'
import { buildTestApp, AUTH_JWT_SECRET } from './helper.ts'
import { refreshTokenDigest } from '../src/buyers/repository.ts'
import type { App } from '@flash/common'

// Buyer accounts and sessions against the real MariaDB and Redis Cluster: what each route
// answers, and what it leaves in the buyers / buyer_sessions tables and the lockout counter.

// long enough for 100 attempts on a busy machine (the ones after the lockout cost no hashing)
const LOCKOUT_SECONDS = 10
const MAX_FAILURES = 5
const app = await buildTestApp(t, {}, {
  AUTH_RATE_LIMIT_MAX: '100000', LOGIN_MAX_FAILURES: String(MAX_FAILURES), LOGIN_LOCKOUT_SECONDS: String(LOCKOUT_SECONDS)
})
const { mysql, redis } = testStack(t)
const verify = createAccessTokenVerifier(AUTH_JWT_SECRET)
const created: string[] = []
t.teardown(async () => {
  if (created.length > 0) await mysql.query('DELETE FROM buyers WHERE username IN (?)', [created])
})

const newName = (label = 'buyer'): string => {
  const name = uniqueName(label)
  created.push(name)
  return name
}
const PASSWORD = 'correct horse battery'

const post = (target: App, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  target.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })

interface Count { n: number }
async function buyersNamed (username: string): Promise<number> {
  const [rows] = await mysql.query<Array<RowDataPacket & Count>>('SELECT COUNT(*) AS n FROM buyers WHERE username = ?', [username])
  return Number(rows[0]?.n)
}
async function sessionsOf (username: string): Promise<{ live: number, revoked: number }> {
  const [rows] = await mysql.query<Array<RowDataPacket & { live: number, revoked: number }>>(
    `SELECT COALESCE(SUM(s.revoked_at IS NULL), 0) AS live, COALESCE(SUM(s.revoked_at IS NOT NULL), 0) AS revoked
       FROM buyer_sessions s JOIN buyers b ON b.id = s.buyer_id WHERE b.username = ?`, [username])
  return { live: Number(rows[0]?.live), revoked: Number(rows[0]?.revoked) }
}
const cookieOf = (res: { cookies: Array<{ name: string, value: string }> }, name: string): string | undefined =>
  res.cookies.find((c) => c.name === name)?.value

t.test('register signs the buyer in: 201, a valid access token, httpOnly SameSite=Strict cookies, a stored hashed password and session', async (t) => {
  const username = newName()
  const res = await post(app, '/auth/register', { username, password: PASSWORD })
  t.equal(res.statusCode, 201)
  const body = res.json()
  t.match(body, { buyer: { id: /^\d+$/, username }, tokenType: 'Bearer', expiresIn: 600 })
  const claims = verify(body.accessToken)
  t.equal(claims.sub, body.buyer.id, 'sub is the buyer id')
  t.equal(claims.name, username)

  const access = res.cookies.find((c) => c.name === ACCESS_COOKIE)
  const refresh = res.cookies.find((c) => c.name === REFRESH_COOKIE)
  t.match(access, { httpOnly: true, sameSite: 'Strict', path: '/api' })
  t.match(refresh, { httpOnly: true, sameSite: 'Strict', path: '/api/auth' })
  t.equal(access?.value, body.accessToken)

  const [rows] = await mysql.query<Array<RowDataPacket & { password_hash: string }>>('SELECT password_hash FROM buyers WHERE username = ?', [username])
  t.match(rows[0]?.password_hash, /^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/, 'a self-describing scrypt hash, never the password')
  t.notOk(rows[0]?.password_hash.includes(PASSWORD))
  const [sessions] = await mysql.query<Array<RowDataPacket & { token_hash: string }>>(
    'SELECT s.token_hash FROM buyer_sessions s JOIN buyers b ON b.id = s.buyer_id WHERE b.username = ?', [username])
  t.same(sessions.map((s) => s.token_hash), [refreshTokenDigest(refresh?.value ?? '')], 'only the SHA-256 of the refresh token is stored')

  const again = await post(app, '/auth/register', { username: username.toUpperCase(), password: PASSWORD })
  t.equal(again.statusCode, 409, 'a taken name (case-insensitively) is 409')
  t.equal(again.json().code, ErrorCode.USERNAME_TAKEN)
  t.equal(await buyersNamed(username), 1, 'still one buyer of that name')

  const quiet = await post(app, '/auth/register', { username: newName(), password: PASSWORD, cookies: false })
  t.equal(quiet.statusCode, 201)
  t.same(quiet.cookies, [], 'cookies: false sets no cookie (the simulator signs many buyers in from one browser)')
})

t.test('validation names the field and stores nothing; SQL and HTML in usernames are refused as characters', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['short username', { username: 'ab', password: PASSWORD }, /body\/username must NOT have fewer than 3 characters/],
    ['long username', { username: 'a'.repeat(33), password: PASSWORD }, /body\/username must NOT have more than 32 characters/],
    ['SQL in username', { username: "x' OR '1'='1", password: PASSWORD }, /body\/username must match pattern/],
    ['SQL comment in username', { username: 'admin\'--', password: PASSWORD }, /body\/username must match pattern/],
    ['HTML in username', { username: '<img src=x onerror=alert(1)>', password: PASSWORD }, /body\/username must match pattern/],
    ['spaces in username', { username: 'two words', password: PASSWORD }, /body\/username must match pattern/],
    ['short password', { username: 'valid-name', password: 'short' }, /body\/password must NOT have fewer than 8 characters/],
    ['long password', { username: 'valid-name', password: 'p'.repeat(129) }, /body\/password must NOT have more than 128 characters/],
    ['number password', { username: 'valid-name', password: 12345678 }, /body\/password must be string/],
    ['missing password', { username: 'valid-name' }, /body must have required property 'password'/],
    ['unknown property', { username: 'valid-name', password: PASSWORD, admin: true }, /body must NOT have additional property 'admin'/]
  ]
  for (const route of ['/auth/register', '/auth/login']) {
    for (const [name, body, message] of cases) {
      const res = await post(app, route, body)
      t.equal(res.statusCode, 400, `${route} ${name}: 400`)
      t.equal(res.json().code, ErrorCode.VALIDATION_FAILED)
      t.match(res.json().message, message, `${route} ${name}: ${res.json().message}`)
    }
  }
  const [rows] = await mysql.query<Array<RowDataPacket & Count>>(
    "SELECT COUNT(*) AS n FROM buyers WHERE username IN ('valid-name', 'ab', 'two words') OR username LIKE '%<%' OR username LIKE '%''%'")
  t.equal(Number(rows[0]?.n), 0, 'no buyer was stored')

  const huge = await post(app, '/auth/login', JSON.stringify({ username: 'valid-name', password: 'p'.repeat(1024 * 1024) }))
  t.equal(huge.statusCode, 413, 'a 1 MB password is refused before parsing, let alone hashing')
  t.equal(huge.json().code, ErrorCode.BODY_TOO_LARGE)
})

t.test('login: one generic 401 for a wrong password and an unknown username; the right one opens a session', async (t) => {
  const username = newName()
  t.equal((await post(app, '/auth/register', { username, password: PASSWORD, cookies: false })).statusCode, 201)
  const before = await sessionsOf(username)

  const wrong = await post(app, '/auth/login', { username, password: 'not the password' })
  const unknown = await post(app, '/auth/login', { username: newName('nobody'), password: 'not the password' })
  t.equal(wrong.statusCode, 401)
  t.same(wrong.json(), unknown.json(), 'the same body for both')
  t.same(wrong.json(), { statusCode: 401, code: ErrorCode.INVALID_CREDENTIALS, error: 'Unauthorized', message: 'username or password is not correct' })
  t.same(await sessionsOf(username), before, 'no session opened')
  t.equal(await redis.get(loginFailuresKey(username)), '1', 'the failure is counted for the username')

  const ok = await post(app, '/auth/login', { username: username.toUpperCase(), password: PASSWORD })
  t.equal(ok.statusCode, 200, 'usernames compare case-insensitively')
  t.equal(ok.json().buyer.username, username)
  t.equal(await redis.get(loginFailuresKey(username)), null, 'a success clears the failure count')
  t.equal((await sessionsOf(username)).live, before.live + 1)
})

t.test('me, refresh (rotating), logout (revoking); a refresh token after logout is refused and changes nothing', async (t) => {
  const username = newName()
  const registered = await post(app, '/auth/register', { username, password: PASSWORD })
  const access = cookieOf(registered, ACCESS_COOKIE) ?? ''
  const refresh = cookieOf(registered, REFRESH_COOKIE) ?? ''

  const byCookie = await app.inject({ url: '/auth/me', cookies: { [ACCESS_COOKIE]: access } })
  t.equal(byCookie.statusCode, 200)
  t.match(byCookie.json(), { id: registered.json().buyer.id, username })
  const byBearer = await app.inject({ url: '/auth/me', headers: { authorization: `Bearer ${access}` } })
  t.same(byBearer.json(), byCookie.json(), 'a bearer token works the same')
  const anonymous = await app.inject({ url: '/auth/me' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, ErrorCode.UNAUTHENTICATED)

  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { [REFRESH_COOKIE]: refresh } })
  t.equal(refreshed.statusCode, 200)
  const rotated = cookieOf(refreshed, REFRESH_COOKIE) ?? ''
  t.not(rotated, refresh, 'a new refresh token')
  t.equal(verify(refreshed.json().accessToken).sub, registered.json().buyer.id)
  t.same(await sessionsOf(username), { live: 1, revoked: 1 }, 'the used token is revoked, the new one live')
  const reused = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { [REFRESH_COOKIE]: refresh } })
  t.equal(reused.statusCode, 401, 'a refresh token works once')
  t.equal(reused.json().code, ErrorCode.UNAUTHENTICATED)

  const out = await app.inject({ method: 'POST', url: '/auth/logout', cookies: { [REFRESH_COOKIE]: rotated } })
  t.equal(out.statusCode, 204)
  t.ok(out.cookies.every((c) => c.value === '' && (c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now()))), 'both cookies cleared')
  const after = await sessionsOf(username)
  t.same(after, { live: 0, revoked: 2 }, 'logout revoked the session')

  const afterLogout = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { [REFRESH_COOKIE]: rotated } })
  t.equal(afterLogout.statusCode, 401, 'a refresh token after logout: 401')
  t.equal(afterLogout.json().code, ErrorCode.UNAUTHENTICATED)
  t.notOk(cookieOf(afterLogout, ACCESS_COOKIE), 'no new access cookie (only a cleared one)')
  t.same(await sessionsOf(username), after, 'nothing changed in MySQL')
  for (const bogus of ['', 'x'.repeat(500), 'not-a-token']) {
    const res = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { [REFRESH_COOKIE]: bogus } })
    t.equal(res.statusCode, 401, `refresh token ${JSON.stringify(bogus.slice(0, 12))}: 401`)
  }
})

t.test('a password change revokes every session and opens one; the old password no longer works', async (t) => {
  const username = newName()
  const first = await post(app, '/auth/register', { username, password: PASSWORD })
  const second = await post(app, '/auth/login', { username, password: PASSWORD })
  t.equal((await sessionsOf(username)).live, 2)
  const token = second.json().accessToken as string

  const wrong = await post(app, '/auth/password', { currentPassword: 'not the password', newPassword: 'a new password' }, { authorization: `Bearer ${token}` })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, ErrorCode.INVALID_CREDENTIALS)
  t.equal((await sessionsOf(username)).live, 2, 'nothing revoked')

  const changed = await post(app, '/auth/password', { currentPassword: PASSWORD, newPassword: 'a new password' }, { authorization: `Bearer ${token}` })
  t.equal(changed.statusCode, 200)
  t.same(await sessionsOf(username), { live: 1, revoked: 2 }, 'both old sessions revoked, one new')
  const oldRefresh = await app.inject({ method: 'POST', url: '/auth/refresh', cookies: { [REFRESH_COOKIE]: cookieOf(first, REFRESH_COOKIE) ?? '' } })
  t.equal(oldRefresh.statusCode, 401, 'another device\'s refresh token is revoked')
  t.equal((await post(app, '/auth/login', { username, password: PASSWORD })).statusCode, 401, 'the old password is refused')
  t.equal((await post(app, '/auth/login', { username, password: 'a new password' })).statusCode, 200, 'the new one works')
})

t.test('100 wrong passwords in a row: locked out (429, no hashing) after a few, and the right password works after the window', async (t) => {
  const username = newName('target')
  t.equal((await post(app, '/auth/register', { username, password: PASSWORD, cookies: false })).statusCode, 201)
  const before = await sessionsOf(username)
  const statuses: number[] = []
  for (let i = 0; i < 100; i++) {
    statuses.push((await post(app, '/auth/login', { username, password: `wrong-password-${i}` })).statusCode)
  }
  t.same(statuses.slice(0, MAX_FAILURES), Array(MAX_FAILURES).fill(401), `the first ${MAX_FAILURES} are wrong-password answers`)
  t.ok(statuses.slice(MAX_FAILURES).every((s) => s === 429), 'the rest are throttled')
  const locked = await post(app, '/auth/login', { username, password: PASSWORD })
  t.equal(locked.statusCode, 429, 'while locked, even the right password is refused (it tells the attacker nothing)')
  t.equal(locked.json().code, ErrorCode.RATE_LIMITED)
  t.ok(Number(locked.headers['retry-after']) >= 1, 'Retry-After says when')
  t.equal(await redis.get(loginFailuresKey(username)), String(MAX_FAILURES), 'locked attempts are not even counted: nothing was hashed')
  t.same(await sessionsOf(username), before, 'no session opened')

  // Retry-After itself is checked (a wall-clock bound on the sleep failed by the timer's overshoot).
  t.ok(Number(locked.headers['retry-after']) <= LOCKOUT_SECONDS, 'Retry-After is the lockout window at most')
  await sleep((Number(locked.headers['retry-after']) + 1) * 1000)
  const later = await post(app, '/auth/login', { username, password: PASSWORD })
  t.equal(later.statusCode, 200, 'after the window the right password works')
  t.equal((await sessionsOf(username)).live, before.live + 1)
})

t.test('register and login are limited per client address', async (t) => {
  const limited = await buildTestApp(t, {}, { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW_SECONDS: '60' })
  const from = { 'x-forwarded-for': '198.51.100.7' }
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await post(limited, '/auth/login', { username: newName('nobody'), password: 'whatever-123' }, from)).statusCode)
  t.same(statuses, [401, 401, 401, 429, 429])
  const other = await post(limited, '/auth/login', { username: newName('nobody'), password: 'whatever-123' }, { 'x-forwarded-for': '198.51.100.8' })
  t.equal(other.statusCode, 401, 'another address is not limited')
  const registerFrom = { 'x-forwarded-for': '198.51.100.9' }
  const registers: number[] = []
  for (let i = 0; i < 4; i++) registers.push((await post(limited, '/auth/register', { username: 'ab', password: PASSWORD }, registerFrom)).statusCode)
  t.same(registers, [400, 400, 400, 429], 'register too, counted before the body is even validated')
})
