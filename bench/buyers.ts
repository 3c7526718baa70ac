import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createAccessTokenSigner, createAccessTokenVerifier } from '@flash/common'

// The bench's buyers are signed in before the sale, untimed. Instead of N scrypt logins
// (seconds of CPU that would compete with the run), their access tokens are minted with the signing
// key — the same HS256 claims a real POST /auth/login issues (sub, name, iss, aud, iat, exp) — so the
// gateway verifies every order exactly as it would a real buyer's, and per-user limits count them.
//
// Each buyer's id is `bench-<runTag>-<i>`: never a number, so no bench order is ever attributed to a
// real account (real buyer ids are decimal). Tokens last long enough for a long run (default 1 h).
//
// `node bench/buyers.ts [iterations]` measures what verifying a token costs the gateway per request.

export interface BenchBuyer {
  /** the buyer id: the token's `sub`, the order's userId */
  userId: string
  /** `Authorization` header value */
  authorization: string
}

/** A variable from the environment, else the value .env.example ships (what `make local` uses). */
export function envOrExample (name: string, env: NodeJS.ProcessEnv = process.env): string {
  const set = env[name]
  if (set !== undefined && set !== '') return set
  const example = readFileSync(join(import.meta.dirname, '..', '.env.example'), 'utf8')
  const line = new RegExp(`^${name}=(.*)$`, 'm').exec(example)?.[1]?.trim().replace(/^"|"$/g, '')
  if (line === undefined || line === '') throw new Error(`${name} is set neither in the environment nor in .env.example`)
  return line
}

/** AUTH_JWT_SECRET from the environment, else the value .env.example ships (what `make local` uses). */
export const benchAuthSecret = (env: NodeJS.ProcessEnv = process.env): string => envOrExample('AUTH_JWT_SECRET', env)

/** N signed-in buyers for one run, minted in memory (about 10 µs each). */
export function mintBuyers (count: number, runTag: string, options: { secret?: string, ttlSeconds?: number } = {}): BenchBuyer[] {
  const sign = createAccessTokenSigner(options.secret ?? benchAuthSecret(), { ttlSeconds: options.ttlSeconds ?? 3600 })
  const buyers: BenchBuyer[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const userId = `bench-${runTag}-${i}`
    buyers[i] = { userId, authorization: `Bearer ${sign({ id: userId, username: userId })}` }
  }
  return buyers
}

const signers = new Map<string, (buyer: { id: string, username: string }) => string>()
/** `Authorization` header value of one signed-in buyer whose id is `userId` (test and load drivers). */
export function buyerAuthorization (userId: string, secret: string = benchAuthSecret()): string {
  let sign = signers.get(secret)
  if (sign === undefined) {
    sign = createAccessTokenSigner(secret, { ttlSeconds: 3600 })
    signers.set(secret, sign)
  }
  return `Bearer ${sign({ id: userId, username: userId })}`
}

/**
 * Microseconds one gateway verification takes (HS256 signature, exp, iss, aud), averaged over distinct
 * tokens: wall time, and CPU time of this process (the steadier number on a shared, busy machine).
 */
export function measureVerifyCost (iterations = 20_000, secret = 'bench-measure-secret-0123456789abcdef'): { perVerifyMicros: number, perVerifyCpuMicros: number, perSignMicros: number } {
  const sign = createAccessTokenSigner(secret)
  const verify = createAccessTokenVerifier(secret)
  const signStart = performance.now()
  const tokens = Array.from({ length: iterations }, (_, i) => sign({ id: String(i), username: `buyer${i}` }))
  const signMs = performance.now() - signStart
  for (let i = 0; i < Math.min(2000, iterations); i++) verify(tokens[i] as string) // warm up the JIT
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (const token of tokens) verify(token)
  const verifyMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  return {
    perVerifyMicros: (verifyMs * 1000) / iterations,
    perVerifyCpuMicros: (used.user + used.system) / iterations,
    perSignMicros: (signMs * 1000) / iterations
  }
}

if (import.meta.main) {
  const iterations = Number(process.argv[2] ?? 20_000)
  const { perVerifyMicros, perVerifyCpuMicros, perSignMicros } = measureVerifyCost(iterations)
  console.log(`access token: verify ${perVerifyMicros.toFixed(1)} µs wall / ${perVerifyCpuMicros.toFixed(1)} µs CPU, sign ${perSignMicros.toFixed(1)} µs (${iterations} distinct tokens)`)
}
