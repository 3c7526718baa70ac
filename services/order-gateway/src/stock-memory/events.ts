import type { Cluster } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import { STOCK_EVENTS_CHANNEL, productIdOfTag } from '@flash/common'
import type { StockMemory } from './memory.ts'

// Listens to the stock scripts' announcements (lua/shared.lua `announceChange`) on a connection of
// its own: a subscribed connection can carry nothing else. Pub/sub delivers at most once, so the
// memory is trusted only while subscribed, and cleared whenever the subscription is re-established
// (messages may have been missed in between); its TTL covers a message lost while connected.

export interface StockEvents { close: () => Promise<void> }

/**
 * `onAnnouncement`: also told of every announcement, and once subscribed (anything announced before
 * is unknown to it): the waiting-room registry re-reads on it.
 */
export function listenToStockEvents (redis: Cluster, memory: StockMemory, log: FastifyBaseLogger, onAnnouncement?: () => void): StockEvents {
  const subscriber = redis.duplicate()
  const subscribe = (): void => {
    subscriber.subscribe(STOCK_EVENTS_CHANNEL).then(
      () => { memory.listening = true; onAnnouncement?.() },
      (err: unknown) => log.warn({ err }, 'stock events: subscribe failed; answering from Redis only'))
  }
  subscriber.on('message', (_channel: string, tag: string) => {
    const productId = productIdOfTag(tag)
    if (productId === null) memory.forgetAll()
    else memory.forget(productId)
    onAnnouncement?.()
  })
  // Reconnecting (a node restarted, a failover): whatever was announced meanwhile is unknown.
  subscriber.on('reconnecting', () => { memory.listening = false })
  subscriber.on('+node', () => { memory.forgetAll() })
  subscriber.on('ready', subscribe)
  subscriber.on('error', (err: unknown) => log.debug({ err }, 'stock events connection error'))
  return {
    close: async () => {
      memory.listening = false
      await subscriber.quit().catch(() => {})
    }
  }
}
