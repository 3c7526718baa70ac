import type { Pool } from '@flash/common'
import type { RowDataPacket } from 'mysql2/promise'

/** Units of a product's orders by state, as MySQL holds them now (docs/ARCHITECTURE.md §8). */
export interface OrderUnits { unitsHeld: number, unitsPaid: number, unitsConfirmed: number }

const NONE: OrderUnits = { unitsHeld: 0, unitsPaid: 0, unitsConfirmed: 0 }
const FIELD = { awaiting_payment: 'unitsHeld', paid: 'unitsPaid', confirmed: 'unitsConfirmed' } as const

/**
 * The live view's one MySQL read: held, paid and confirmed units of the watched products, once a
 * second per catalog process however many pages watch (an index range per product and state).
 */
export class OrderUnitsReader {
  readonly #pool: Pool

  constructor (pool: Pool) {
    this.#pool = pool
  }

  async read (productIds: readonly number[]): Promise<Map<number, OrderUnits>> {
    const units = new Map<number, OrderUnits>(productIds.map((id) => [id, { ...NONE }]))
    if (productIds.length === 0) return units
    const [rows] = await this.#pool.query<Array<RowDataPacket & { product_id: number, status: keyof typeof FIELD, units: string | number }>>(
      `SELECT product_id, status, SUM(quantity) AS units FROM orders
        WHERE product_id IN (?) AND status IN ('awaiting_payment', 'paid', 'confirmed') GROUP BY product_id, status`,
      [productIds])
    for (const row of rows) {
      const product = units.get(Number(row.product_id))
      const field = FIELD[row.status]
      if (product !== undefined && field !== undefined) product[field] = Number(row.units)
    }
    return units
  }
}
