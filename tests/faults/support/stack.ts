import { execFile } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { request } from 'undici'
import { openStack, waitUntil, type TestStack } from '@flash/common/test-support'

// The running `make local` stack as the fault scenarios see it: endpoints, clients, and the ONE way to
// disrupt a component (deploy/local/component.sh, which acts on exactly the pid it started).

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const CATALOG = process.env.CATALOG_URL ?? 'http://127.0.0.1:3001'
export const GATEWAY = process.env.GATEWAY_URL ?? 'http://127.0.0.1:3002'
export const PROCESSOR = process.env.PROCESSOR_URL ?? 'http://127.0.0.1:3003'
export const PAYMENTS = process.env.PAYMENTS_URL ?? 'http://127.0.0.1:3004'
export const NGINX = process.env.NGINX_URL ?? 'http://127.0.0.1:8080'
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? 'local-only-flash-sale-admin-token-replace-me-in-any-real-deployment'

export type Component = 'mariadb' | 'kafka' | `redis-${number}` | 'catalog-service' | 'order-gateway' | 'order-processor' | 'payment-service' | 'stripe-mock' | 'nginx'

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
  await Promise.all([waitReady(CATALOG, timeoutMs), waitReady(GATEWAY, timeoutMs), waitReady(PROCESSOR, timeoutMs), waitReady(PAYMENTS, timeoutMs)])
}

export type Clients = TestStack

/**
 * Every scenario starts from a ready stack and, pass or fail, leaves it ready: the components it may
 * disrupt are started again in teardown (component.sh start is idempotent: "already up" if so).
 */
export async function prepareScenario (t: { teardown: (fn: () => unknown) => void }, restore: Component[]): Promise<Clients> {
  const clients = openStack(process.env, { connectionLimit: 4 })
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
