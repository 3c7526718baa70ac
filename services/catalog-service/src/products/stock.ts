import { ABANDONED_CHANGE_MS, newChangeToken, productKeys, sleep, type ChangeOp, type Cluster, type Logger, type MysqlStock, type ProductInfoChange, type StockSnapshot, type StockStore, type SyncOutcome } from '@flash/common'

// The catalog's side of the Redis stock protocol (services/common/src/stock): putting MySQL stock on
// sale, restocking during a sale, publishing status and per-user limit to the reservation script, and
// reading MySQL and Redis at one consistent point for reconciliation.

/** tries of a restock's Redis step after its MySQL commit */
const FINISH_ATTEMPTS = 5

export type ProductInfo = ProductInfoChange

export interface ConsistentView {
  mysql: MysqlStock | null
  snapshot: StockSnapshot
  /** false when a stock change kept moving MySQL while we read: the figures may disagree transiently */
  consistent: boolean
}

export class CatalogStock {
  readonly #redis: Cluster
  readonly #store: StockStore
  readonly #log: Pick<Logger, 'error'>

  constructor (redis: Cluster, store: StockStore, log: Pick<Logger, 'error'> = console) {
    this.#redis = redis
    this.#store = store
    this.#log = log
  }

  get store (): StockStore {
    return this.#store
  }

  available (productIds: number[]): Promise<Map<number, number | null>> {
    return this.#store.available(productIds)
  }

  snapshot (productId: number): Promise<StockSnapshot> {
    return this.#store.snapshot(productId)
  }

  /**
   * Redis available = MySQL stock − units reserved but not yet applied (the ledger). Never a blind
   * SET of MySQL stock: that would sell the in-flight reservations a second time (the seed's bug).
   */
  putOnSale (productId: number, readMysql: () => Promise<MysqlStock | null>): Promise<SyncOutcome> {
    return this.#store.sync(productId, readMysql)
  }

  /**
   * Adds units to MySQL, then to Redis, as one registered stock change (I1): between the two, Redis
   * under-states the stock (safe), and a concurrent sync waits for the change to finish instead of
   * computing "MySQL − ledger" from a MySQL figure that already has the units while Redis also gets
   * them. `addToMysql` commits and says whether the units were added.
   */
  async restock<R> (productId: number, quantity: number, addToMysql: () => Promise<{ added: boolean, result: R }>): Promise<R> {
    const token = newChangeToken('catalog')
    await this.#store.beginChange(productId, token)
    let outcome: { added: boolean, result: R }
    try {
      outcome = await addToMysql()
    } catch (error) {
      // MySQL may or may not have committed (a lost connection): adding nothing to Redis can only
      // under-state; the next sync sets the exact figure.
      await this.#store.finishChange(productId, token, []).catch(() => {})
      throw error
    }
    // MySQL has committed: the restock happened, whatever Redis does now, so the caller gets its
    // answer (a 5xx here would invite a retry that restocks twice). finishChange applies 'add' only
    // while the change is registered, so retrying it after a lost reply cannot add the units twice.
    // If Redis stays unreachable, it under-states stock until sync treats the change as abandoned.
    const ops: ChangeOp[] = outcome.added ? [{ op: 'add', quantity }] : []
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#store.finishChange(productId, token, ops)
        break
      } catch (error) {
        if (attempt >= FINISH_ATTEMPTS) {
          this.#log.error({ err: error, productId, quantity }, 'restock committed in MySQL but not applied to Redis; stock sync will correct it')
          break
        }
        await sleep(100 * attempt)
      }
    }
    return outcome.result
  }

  /**
   * Publishes status, per-user limit and sale window to the reservation script, after MySQL committed them. The
   * change counter is bumped first, so a sync that read MySQL before the commit is refused and reads
   * again, instead of writing the old status (an archived product back on sale) over the new one.
   */
  async publishInfo (productId: number, info: ProductInfo): Promise<void> {
    // setInfo moves `seq` with the change, so an in-flight sync cannot write the old status back.
    await this.#store.setInfo(productId, info)
  }

  /**
   * MySQL stock and the Redis snapshot read at one point: the change counter did not move and no
   * change was in flight while MySQL was read, so "available + pending = MySQL stock" must hold.
   */
  async consistentView (productId: number, readMysql: () => Promise<MysqlStock | null>, attempts = 5): Promise<ConsistentView> {
    const changes = productKeys(productId).changes
    let view: ConsistentView | undefined
    for (let attempt = 0; attempt < attempts; attempt++) {
      const before = await this.#store.snapshot(productId)
      const inFlight = await this.#changesInFlight(changes)
      const mysql = await readMysql()
      const snapshot = await this.#store.snapshot(productId)
      view = { mysql, snapshot, consistent: inFlight === 0 && before.seq === snapshot.seq }
      if (view.consistent) return view
      await sleep(10 * 2 ** attempt)
    }
    return view as ConsistentView
  }

  async #changesInFlight (changesKey: string): Promise<number> {
    const started = Object.values(await this.#redis.hgetall(changesKey))
    const now = Date.now()
    // A change older than this was abandoned by a dead process (sync ignores it too, see sync.lua).
    return started.filter((t) => now - Number(t) < ABANDONED_CHANGE_MS).length
  }
}
