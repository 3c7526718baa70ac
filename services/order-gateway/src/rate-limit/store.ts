import type { Cluster } from 'ioredis'
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import { loadLuaScript, runLuaScript } from '@flash/common'

// A Redis store for @fastify/rate-limit (its `store` option), so limits hold across gateway replicas.
// The plugin's own Redis store registers its script with ioredis' defineCommand, which sends the
// script's source with every auto-pipelined call; this one calls it by SHA.

const fixedWindow = loadLuaScript(new URL('./fixed-window.lua', import.meta.url), 1)

type Incremented = (error: Error | null, result?: { current: number, ttl: number }) => void
/** what the plugin passes to child() at run time (its published type omits routeInfo) */
type RouteOptions = Parameters<FastifyRateLimitStore['child']>[0] & { routeInfo?: { method: string, url: string } }

/** `windowMs`: the window when the plugin does not pass the route's own (it does, as incr's third argument). */
export function redisRateLimitStore (redis: Cluster, prefix: string, windowMs: number): FastifyRateLimitStoreCtor {
  class RedisFixedWindowStore implements FastifyRateLimitStore {
    readonly #prefix: string

    constructor (_globalOptions?: unknown, routePrefix: string = prefix) {
      this.#prefix = routePrefix
    }

    incr (key: string, done: Incremented, timeWindow: number = windowMs): void {
      runLuaScript(redis, fixedWindow, [`${this.#prefix}${key}`, timeWindow]).then(
        (reply) => {
          const [current, ttl] = reply as [number, number]
          done(null, { current, ttl })
        },
        (error: Error) => done(error))
    }

    /** A route's own counters (the plugin asks for one per rate-limited route). */
    child (routeOptions: RouteOptions): FastifyRateLimitStore {
      const route = routeOptions.routeInfo
      return new RedisFixedWindowStore(undefined, route ? `${prefix}${route.method}${route.url}-` : this.#prefix)
    }
  }
  return RedisFixedWindowStore
}
