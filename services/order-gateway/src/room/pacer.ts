import type { FastifyBaseLogger } from 'fastify'
import { admissionWindow, type RoomStore } from '@flash/common'
import type { RoomRegistry } from './registry.ts'

// Admits the front of each room's queue (docs/ARCHITECTURE.md §10). Every gateway ticks; room/lua/admit.lua
// lets one tick per interval through across all of them, so the pace is the room's, not the number of
// gateways'. The window follows the passes the order path used per second (measured in Redis).

export interface PacerOptions {
  store: RoomStore
  registry: RoomRegistry
  log: FastifyBaseLogger
  tickMs: number
  keepMs: number
  passMs: number
  minWindow: number
  windowSeconds: number
}

export class RoomPacer {
  readonly #o: PacerOptions
  /** passes used per second, per product, as the last tick measured */
  readonly #used = new Map<number, number>()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined

  constructor (options: PacerOptions) { this.#o = options }

  start (): void {
    if (this.#o.tickMs <= 0) return
    this.#timer = setInterval(() => {
      this.#running ??= this.tickAll().finally(() => { this.#running = undefined })
    }, this.#o.tickMs)
    this.#timer.unref()
  }

  async tickAll (): Promise<void> {
    const { store, registry, tickMs, keepMs, passMs, minWindow, windowSeconds } = this.#o
    await Promise.all([...registry.products].map(async (productId) => {
      const window = admissionWindow(this.#used.get(productId) ?? 0, windowSeconds, minWindow)
      try {
        const outcome = await store.tick(productId, { tickMs, keepMs, passMs, window, perTick: window })
        if (outcome.kind === 'tick') this.#used.set(productId, outcome.usedPerSecond)
      } catch (err) {
        this.#o.log.warn({ err, productId }, 'waiting room: admission tick failed')
      }
    }))
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.#running
  }
}
