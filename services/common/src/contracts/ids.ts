import { randomFillSync } from 'node:crypto'
import { monotonicFactory } from 'ulid'
import { ORDER_ID_PATTERN } from './schemas.ts'

// Order ids are ULIDs: time-ordered (newest-first listing is an index scan) and unique across gateway
// replicas. The id is the orders table's primary key, which is what makes a redelivery harmless (I3).

// The ulid package asks its PRNG for one number per random character, and its default PRNG makes a
// crypto call for each (16 per id: the largest item of an accepted order's profile). This PRNG hands
// out the same cryptographic randomness from a pool filled 4 KiB at a time.
const pool = new Uint32Array(1024)
let next = pool.length
const pooledRandom = (): number => {
  if (next === pool.length) {
    randomFillSync(pool)
    next = 0
  }
  return (pool[next++] as number) / 4294967296
}

const nextUlid = monotonicFactory(pooledRandom)

export const newOrderId = (): string => nextUlid()

const orderIdRe = new RegExp(ORDER_ID_PATTERN)
export const isOrderId = (value: string): boolean => orderIdRe.test(value)

/** A token naming one stock change in flight (a processor batch, a restock). */
export const newChangeToken = (owner: string): string => `${owner}:${nextUlid()}`
