import { AppError, ErrorCode, serviceUnavailable, DEFAULT_PAYMENT_WINDOW_SECONDS, type RoomStore } from '@flash/common'
import type { AdminProductQuery, Product, NewProduct, ProductChanges, ProductQuery } from '../schemas.ts'
import { productArchived, productNotFound } from '../errors.ts'
import type { PageRequest, ProductRepository, ProductRecord, WaitingRoomSettings } from './repository.ts'
import { MAX_TOTAL_STOCK } from './repository.ts'
import { checkImageUrl, saleWindow } from './rules.ts'
import type { ProductCache, ProductDetails } from './cache.ts'
import type { CatalogStock, ProductInfo } from './stock.ts'
import type { AuditActor, AuditLog } from '../audit/audit-log.ts'

// The catalog's use cases. Routes call these; SQL stays in the repository, Redis stock in CatalogStock.
// Order of every write: MySQL first (the source of truth) with its audit entry in the same
// transaction, then Redis stock/info, then the cache.

export interface ProductRead { product: Product, cacheHit: boolean }
interface ProductList { items: Product[], page: number, pageSize: number, total: number }

/** the column's default: joining opens an hour before the sale starts */
const DEFAULT_ROOM_OPENS_SECONDS = 3600

export class Catalog {
  readonly #repository: ProductRepository
  readonly #cache: ProductCache
  readonly #stock: CatalogStock
  readonly #paymentWindowSeconds: number
  readonly #rooms: RoomStore
  readonly #audit: AuditLog

  constructor (options: { repository: ProductRepository, cache: ProductCache, stock: CatalogStock, rooms: RoomStore, audit: AuditLog, paymentWindowSeconds?: number }) {
    this.#rooms = options.rooms
    this.#audit = options.audit
    this.#paymentWindowSeconds = options.paymentWindowSeconds ?? DEFAULT_PAYMENT_WINDOW_SECONDS
    this.#repository = options.repository
    this.#cache = options.cache
    this.#stock = options.stock
  }

  /** `action`: `simulator.run` when the simulator creates its sale's product */
  async create (input: NewProduct, actor: AuditActor, action: 'product.create' | 'simulator.run' = 'product.create'): Promise<Product> {
    checkImageUrl(input.imageUrl)
    const window = saleWindow({ saleStartsAt: input.saleStartsAt ?? null, saleEndsAt: input.saleEndsAt ?? null })
    const id = await this.#audit.change(actor, (db) => this.#repository.create({
      name: input.name.trim(),
      stock: input.stock,
      price: input.price ?? 0,
      originalPrice: input.originalPrice ?? null,
      imageUrl: input.imageUrl ?? null,
      perUserLimit: input.perUserLimit ?? null,
      paymentWindowSeconds: input.paymentWindowSeconds ?? this.#paymentWindowSeconds,
      saleStartsAt: window.startsAt,
      saleEndsAt: window.endsAt,
      waitingRoom: { enabled: input.waitingRoom?.enabled ?? false, opensSecondsBefore: input.waitingRoom?.opensSecondsBefore ?? DEFAULT_ROOM_OPENS_SECONDS }
    }, db), (productId) => ({ action, productId, detail: JSON.stringify({ name: input.name.trim(), stock: input.stock, price: input.price ?? 0 }) }))
    // On sale before the 201. If Redis fails here the product exists in MySQL but is not on sale:
    // we answer 503, and the next stock sync (periodic `sync:stock`, or POST /admin/stock/sync) puts
    // it on sale from MySQL. Rolling the INSERT back instead could race with that sync.
    let after: number
    try {
      const outcome = await this.#stock.putOnSale(id, () => this.#repository.stockOf(id))
      if (outcome.outcome !== 'set') throw new Error(`stock sync answered ${outcome.outcome}`)
      after = outcome.after
    } catch (error) {
      throw serviceUnavailable(`product ${id} was created but could not be put on sale yet; stock sync will retry`, error)
    }
    const record = await this.#mustFind(id)
    if (record.waitingRoom.enabled) await this.#publishRoom(id, record.waitingRoom)
    return toProduct(record, after)
  }

  async read (id: number): Promise<ProductRead> {
    const { details, hit } = await this.#cache.read(id)
    if (details === null) throw productNotFound(id)
    return { product: toProduct(details, await this.#liveStock(id)), cacheHit: hit }
  }

  async list (query: ProductQuery): Promise<ProductList> {
    const name = query.name?.trim()
    return this.#page({
      page: query.page,
      pageSize: query.pageSize,
      name: name === '' ? undefined : name,
      onSaleFirst: query.sort === 'on-sale-first',
      hideSoldOut: query.hideSoldOut
    })
  }

  /** The admin page's list: archived products too, found by id or name. */
  async listForAdmin (query: AdminProductQuery): Promise<ProductList> {
    const search = query.search?.trim()
    return this.#page({ page: query.page, pageSize: query.pageSize, status: query.status, idOrName: search === '' ? undefined : search })
  }

  async #page (request: PageRequest): Promise<ProductList> {
    const { items, total } = await this.#repository.page(request)
    const live = await this.#stock.available(items.map((p) => p.id))
    return {
      items: items.map((record) => toProduct(record, live.get(record.id) ?? record.stock)),
      page: request.page,
      pageSize: request.pageSize,
      total
    }
  }

  /** An archived product is not changed (409 PRODUCT_ARCHIVED), as with restock: it is out of the shop for good. */
  async update (id: number, changes: ProductChanges, actor: AuditActor): Promise<Product> {
    checkImageUrl(changes.imageUrl)
    const { saleStartsAt, saleEndsAt, waitingRoom, ...details } = changes
    const movesWindow = saleStartsAt !== undefined || saleEndsAt !== undefined
    let window: { startsAt: Date | null, endsAt: Date | null } | undefined
    if (movesWindow) {
      // A bound left out keeps its stored value; the window as a whole must still make sense.
      const current = await this.#mustFind(id)
      window = saleWindow({
        saleStartsAt: saleStartsAt !== undefined ? saleStartsAt : current.saleStartsAt,
        saleEndsAt: saleEndsAt !== undefined ? saleEndsAt : current.saleEndsAt
      })
    }
    const found = await this.#audit.change(actor, (db) => this.#repository.updateDetails(id, {
      ...details,
      ...(details.name !== undefined ? { name: details.name.trim() } : {}),
      ...(window !== undefined ? { saleStartsAt: window.startsAt, saleEndsAt: window.endsAt } : {}),
      ...(waitingRoom !== undefined ? { waitingRoom: waitingRoom.enabled ? 1 : 0 } : {}),
      ...(waitingRoom?.opensSecondsBefore !== undefined ? { waitingRoomOpensSeconds: waitingRoom.opensSecondsBefore } : {})
    }, db), (result) => result !== 'updated'
      ? null
      : { action: updateAction(changes), productId: id, detail: JSON.stringify(changes) })
    if (found === 'not-found') throw productNotFound(id)
    if (found === 'archived') throw productArchived(id)
    if (changes.perUserLimit !== undefined || window !== undefined) {
      await this.#publishInfo(id, {
        ...(changes.perUserLimit !== undefined ? { perUserLimit: changes.perUserLimit } : {}),
        ...(window !== undefined ? { window: { startsAt: msOf(window.startsAt), endsAt: msOf(window.endsAt) } } : {})
      })
    }
    if (waitingRoom !== undefined) await this.#publishRoom(id, (await this.#mustFind(id)).waitingRoom)
    await this.#cache.invalidate(id)
    return this.#fresh(id)
  }

  /**
   * Restocking an archived product is refused (409 PRODUCT_ARCHIVED): its units could never be sold,
   * and the request is almost certainly a mistake.
   */
  async restock (id: number, quantity: number, actor: AuditActor): Promise<Product> {
    const result = await this.#stock.restock(id, quantity, async () => {
      const result = await this.#audit.change(actor, (db) => this.#repository.addStock(id, quantity, db),
        (added) => added === 'added' ? { action: 'product.restock', productId: id, detail: JSON.stringify({ quantity }) } : null)
      return { added: result === 'added', result }
    }).catch((error: unknown) => {
      if (error instanceof AppError) throw error
      throw serviceUnavailable(`restock of product ${id} may be incomplete in Redis; stock sync will correct it`, error)
    })
    if (result === 'not-found') throw productNotFound(id)
    if (result === 'archived') throw productArchived(id)
    if (result === 'too-much') {
      throw new AppError(400, ErrorCode.VALIDATION_FAILED, `body/quantity would take the stock of product ${id} above ${MAX_TOTAL_STOCK}`)
    }
    await this.#cache.invalidate(id)
    return this.#fresh(id)
  }

  /**
   * Archive: the product leaves the shop, the reservation script refuses new orders, history stays.
   * Idempotent: a second DELETE answers 200 with the product unchanged, and publishes the status to
   * Redis again (which repairs a first attempt whose Redis write failed).
   */
  async archive (id: number, actor: AuditActor): Promise<Product> {
    // A second archive changes nothing and writes no entry.
    const result = await this.#audit.change(actor, (db) => this.#repository.archive(id, db),
      (archived) => archived === 'archived' ? { action: 'product.archive', productId: id } : null)
    if (result === 'not-found') throw productNotFound(id)
    await this.#publishInfo(id, { status: 'archived' })
    await this.#cache.invalidate(id)
    return this.#fresh(id)
  }

  async #publishInfo (id: number, info: ProductInfo): Promise<void> {
    try {
      await this.#stock.publishInfo(id, info)
    } catch (error) {
      // MySQL holds the change; stock sync copies status and limit from MySQL, so it repairs this.
      throw serviceUnavailable(`product ${id} was saved but Redis did not take the change yet; stock sync will publish it`, error)
    }
  }

  /**
   * The room's switch for the gateways (docs/ARCHITECTURE.md §10), after MySQL has it; then an
   * announcement, on which every gateway re-reads which products have a room.
   */
  async #publishRoom (id: number, room: WaitingRoomSettings): Promise<void> {
    try {
      await this.#rooms.configure(id, room)
      await this.#stock.publishInfo(id, { status: 'active' })
    } catch (error) {
      throw serviceUnavailable(`product ${id} was saved but Redis did not take its waiting room yet; save it again`, error)
    }
  }

  async #fresh (id: number): Promise<Product> {
    const record = await this.#mustFind(id)
    return toProduct(record, await this.#liveStock(id, record.stock))
  }

  async #mustFind (id: number): Promise<ProductRecord> {
    const record = await this.#repository.findById(id)
    if (record === null) throw productNotFound(id)
    return record
  }

  /** Redis available; MySQL stock only when the product is not on sale in Redis. */
  async #liveStock (id: number, mysqlStock?: number): Promise<number> {
    const live = (await this.#stock.available([id])).get(id)
    if (live !== null && live !== undefined) return live
    if (mysqlStock !== undefined) return mysqlStock
    return (await this.#repository.stockOf(id))?.stock ?? 0
  }
}

/** A change of the waiting room's switch is audited as such; any other change as an update. */
const updateAction = (changes: ProductChanges): 'waiting-room.configure' | 'product.update' =>
  changes.waitingRoom !== undefined ? 'waiting-room.configure' : 'product.update'

function toProduct (details: ProductDetails, stock: number): Product {
  return {
    id: details.id,
    name: details.name,
    price: details.price,
    // Cached details written before the column existed lack the field.
    originalPrice: details.originalPrice ?? null,
    stock,
    imageUrl: details.imageUrl,
    perUserLimit: details.perUserLimit,
    // Cached details written before payment windows existed lack the field.
    paymentWindowSeconds: details.paymentWindowSeconds ?? DEFAULT_PAYMENT_WINDOW_SECONDS,
    status: details.status,
    // Cached details written before sale windows existed lack the fields: no window.
    saleStartsAt: details.saleStartsAt ?? null,
    saleEndsAt: details.saleEndsAt ?? null,
    // Cached details written before waiting rooms existed lack the field: no room.
    waitingRoom: details.waitingRoom ?? { enabled: false, opensSecondsBefore: DEFAULT_ROOM_OPENS_SECONDS },
    createdAt: details.createdAt,
    updatedAt: details.updatedAt
  }
}

/** Earliest and latest bound a window may have (DATETIME's range, and no sale before this system). */
const msOf = (date: Date | null): number | null => date === null ? null : date.getTime()
