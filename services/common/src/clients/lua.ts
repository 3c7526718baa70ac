import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import type { Cluster } from 'ioredis'

// Lua scripts are called by their SHA (EVALSHA), with the source sent only when a node answers
// NOSCRIPT (restarted, or a replica just promoted). Not ioredis' defineCommand: under auto-pipelining
// it sends the whole source with every call (it remembers loaded scripts per pipeline, and each
// pipeline is new), which made writing Lua text to sockets the gateway's largest cost.

export interface LuaScript { numberOfKeys: number, lua: string, sha: string }

/** `prelude`: Lua put in front of the file's own (definitions several scripts share). */
export function loadLuaScript (file: URL, numberOfKeys: number, prelude = ''): LuaScript {
  const lua = prelude + readFileSync(file, 'utf8')
  return { numberOfKeys, lua, sha: createHash('sha1').update(lua).digest('hex') }
}

/** `args` = the script's keys, then its arguments. */
export async function runLuaScript (redis: Cluster, script: LuaScript, args: Array<string | number>): Promise<unknown> {
  try {
    return await evalBySha(redis, script, args)
  } catch (error) {
    if (!isRedirection(error)) throw error
    // After a failover ioredis follows a MOVED only when every command of an (auto-)pipeline got the
    // same one; commands for several slots of the moved node come back with their MOVED and its slot
    // map stays stale (upstream: redis/ioredis#2075). A redirected command was not run: learn the new map, retry once.
    await new Promise<void>((resolve) => { redis.refreshSlotsCache(() => { resolve() }) })
    return await evalBySha(redis, script, args)
  }
}

async function evalBySha (redis: Cluster, script: LuaScript, args: Array<string | number>): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, script.numberOfKeys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error
    return await redis.eval(script.lua, script.numberOfKeys, ...args)
  }
}

/** A MOVED or ASK reply: the slot lives elsewhere now, and the command was not run. */
export function isRedirection (error: unknown): boolean {
  return error instanceof Error && /^(MOVED|ASK) /.test(error.message)
}
