import { execFile } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { request } from 'undici'
import { createMysqlPool, createRedisCluster, sleep, StockStore, type Pool, type Cluster } from '@flash/common'

// The running `make local` stack as the fault scenarios see it: endpoints, clients, and the ONE way to
// disrupt a component (deploy/local/component.sh, which acts on exactly the pid it started).

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const CATALOG = process.env.CATALOG_URL ?? 'http://127.0.0.1:3001'
export const GATEWAY = process.env.GATEWAY_URL ?? 'http://127.0.0.1:3002'
export const PROCESSOR = process.env.PROCESSOR_URL ?? 'http://127.0.0.1:3003'
export const NGINX = process.env.NGINX_URL ?? 'http://127.0.0.1:8080'
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? 'change-me-admin-token'
export const REDIS_NODES = process.env.REDIS_NODES ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005,127.0.0.1:7006'

export type Component = 'mariadb' | 'kafka' | 'redis-7001' | 'redis-7002' | 'redis-7003' | 'redis-7004' | 'redis-7005' | 'redis-7006' |
  'catalog-service' | 'order-gateway' | 'order-processor' | 'nginx'

const run = promisify(execFile)

/** The PATH every child gets: this Node first, so component.sh starts services on the same Node 24. */
export const childPath = (): string => `${dirname(process.execPath)}:${process.env.PATH ?? ''}`

/** deploy/local/component.sh stop|start|kill <component>: the only way a scenario disrupts the stack. */
export async function component (action: 'stop' | 'start' | 'kill', name: Component): Promise<string> {
  const { stdout, stderr } = await run('bash', [resolve(ROOT, 'deploy/local/component.sh'), action, name], {
    cwd: ROOT, env: { ...process.env, PATH: childPath() }, timeout: 180_000
  })
  return `${stdout}${stderr}`.trim()
}

/** Polls `probe` until it returns a value other than undefined, or throws at the deadline. */
export async function waitUntil<T> (what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`)
}

export async function ready (baseUrl: string): Promise<boolean> {
  try {
    const res = await request(`${baseUrl}/health/ready`, { headersTimeout: 3000, bodyTimeout: 3000 })
    await res.body.dump()
    return res.statusCode === 200
  } catch {
    return false
  }
}

export async function waitReady (baseUrl: string, timeoutMs = 60_000): Promise<void> {
  await waitUntil(`${baseUrl}/health/ready`, async () => (await ready(baseUrl)) ? true : undefined, timeoutMs, 500)
}

/** The whole stack answers: every scenario starts (and ends) here. */
export async function waitStackReady (timeoutMs = 90_000): Promise<void> {
  await Promise.all([waitReady(CATALOG, timeoutMs), waitReady(GATEWAY, timeoutMs), waitReady(PROCESSOR, timeoutMs)])
}

export interface Clients { mysql: Pool, redis: Cluster, store: StockStore, close: () => Promise<void> }

export function connect (): Clients {
  const mysql = createMysqlPool({
    MYSQL_HOST: process.env.MYSQL_HOST ?? '127.0.0.1',
    MYSQL_PORT: Number(process.env.MYSQL_PORT ?? 3306),
    MYSQL_USER: process.env.MYSQL_USER ?? 'flash',
    MYSQL_PASSWORD: process.env.MYSQL_PASSWORD ?? 'flash',
    MYSQL_DATABASE: process.env.MYSQL_DATABASE ?? 'flash_sale',
    MYSQL_POOL_SIZE: 4
  })
  const redis = createRedisCluster(REDIS_NODES)
  const store = new StockStore(redis)
  return {
    mysql,
    redis,
    store,
    close: async () => {
      await Promise.allSettled([mysql.end(), redis.quit()])
    }
  }
}

/**
 * Every scenario starts from a ready stack and, pass or fail, leaves it ready: the components it may
 * disrupt are started again in teardown (component.sh start is idempotent: "already up" if so).
 */
export async function prepareScenario (t: { teardown: (fn: () => unknown) => void }, restore: Component[]): Promise<Clients> {
  const clients = connect()
  t.teardown(async () => {
    for (const name of restore) {
      try {
        await component('start', name)
      } catch (error) {
        console.error(`teardown: could not start ${name}: ${(error as Error).message}`)
      }
    }
    await waitStackReady().catch((error: Error) => console.error(`teardown: ${error.message}`))
    await clients.close()
  })
  await waitStackReady()
  return clients
}

export const uniqueTag = (scenario: string): string => `${scenario}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`
