import { answerTimeQuantile, type LiveReading } from '@flash/common'
import type { LivePoint } from '../schemas.ts'
import type { OrderUnits } from './units.ts'

/** A product's second as the live view shows it: every gateway's counts summed, p50/p99 of their sum. */
export function livePoint (productId: number, second: number, reading: LiveReading | undefined, units: OrderUnits | undefined,
  kafkaLag: number | null): LivePoint {
  const counts = reading?.counts
  return {
    productId,
    at: second * 1000,
    accepted: counts?.accepted ?? 0,
    refused: counts?.refused ?? 0,
    p50Ms: counts === undefined ? null : answerTimeQuantile(counts.answerTimes, 0.5),
    p99Ms: counts === undefined ? null : answerTimeQuantile(counts.answerTimes, 0.99),
    stock: reading?.stock ?? null,
    unitsHeld: units?.unitsHeld ?? 0,
    unitsPaid: units?.unitsPaid ?? 0,
    unitsConfirmed: units?.unitsConfirmed ?? 0,
    kafkaLag
  }
}

/** The last `size` points of a product, oldest first: a fixed ring, no allocation per second past its fill. */
export class PointRing {
  readonly #points: LivePoint[] = []
  readonly #size: number
  #next = 0

  constructor (size: number) {
    this.#size = size
  }

  push (point: LivePoint): void {
    if (this.#points.length < this.#size) this.#points.push(point)
    else this.#points[this.#next] = point
    this.#next = (this.#next + 1) % this.#size
  }

  toArray (): LivePoint[] {
    return this.#points.length < this.#size ? [...this.#points] : [...this.#points.slice(this.#next), ...this.#points.slice(0, this.#next)]
  }
}
