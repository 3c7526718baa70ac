import type { Cluster } from 'ioredis'
import { productKeys } from '@flash/common'

// A waiting room that no running gateway's pacer admits from (room/lua/admit.lua: a `tick` in the
// future pauses every pacer until then), while a test steps it itself with a negative interval.

/** a `tick` far in the future pauses the pacers */
const PAUSED = String(Date.now() + 10 * 365 * 86_400_000)
/** the tick interval that steps a paused room anyway */
export const STEP = -Number(PAUSED)

/** Pauses the product's room for every pacer but the test's own (call before the room is switched on). */
export async function pauseRoom (redis: Cluster, productId: number): Promise<void> {
  await redis.hset(productKeys(productId).room, 'tick', PAUSED)
}
