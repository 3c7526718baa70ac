import t from 'tap'
import { productKeys, productTag } from '@flash/common'
import { testStack } from '@flash/common/test-support'
import { buildTestApp, postProduct } from './helper.ts'

// Every key of one product carries the hash tag {product:<id>}, so it sits in one slot, on one master,
// where one Lua script can change them together; different products spread over all three masters.

t.test('products land on all three masters, and the keys of one product share a slot', async (t) => {
  const app = await buildTestApp(t)
  const { redis } = testStack(t)
  const slots = await redis.cluster('SLOTS') as unknown as Array<[number, number, [string, number, string?]]>
  const masters = redis.nodes('master')
  t.equal(masters.length, 3, 'three masters')
  const masterOf = (slot: number): string => {
    const range = slots.find(([from, to]) => slot >= from && slot <= to)
    return range === undefined ? 'none' : `${range[2][0]}:${range[2][1]}`
  }
  const byMaster = new Map<string, number[]>()
  for (let i = 0; i < 60 && byMaster.size < 3; i++) {
    const product = await postProduct(app, { stock: 5 })
    const keys = productKeys(product.id)
    const names = [keys.stock, keys.info, keys.users, keys.ledger, keys.changes, keys.seq, `${keys.idemPrefix}k`, `${keys.voidPrefix}o`, `${keys.returnedPrefix}o`]
    for (const name of names) t.ok(name.startsWith(productTag(product.id)), `${name} carries the hash tag`)
    const keySlots = await Promise.all(names.map((name) => redis.cluster('KEYSLOT', name) as Promise<unknown> as Promise<number>))
    t.equal(new Set(keySlots).size, 1, `all keys of product ${product.id} share slot ${keySlots[0]}`)
    const master = masterOf(keySlots[0]!)
    byMaster.set(master, [...(byMaster.get(master) ?? []), product.id])
  }
  t.equal(byMaster.size, 3, `products on three masters: ${JSON.stringify(Object.fromEntries(byMaster))}`)
  // Ask each master directly: it holds the stock key of its products, and answers the stock on sale.
  for (const node of masters) {
    const address = `${node.options.host}:${node.options.port}`
    const ids = [...byMaster.entries()].find(([m]) => m === address || m.endsWith(`:${node.options.port}`))?.[1] ?? []
    t.ok(ids.length > 0, `master ${address} holds some of our products`)
    for (const id of ids) {
      t.equal(await node.exists(productKeys(id).stock), 1, `master ${address} has product ${id}'s stock`)
      t.equal(await node.get(productKeys(id).stock), '5')
      t.equal(await node.hget(productKeys(id).info, 'status'), 'active')
    }
  }
})
