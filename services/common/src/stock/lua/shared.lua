-- Shared by every stock script: clients/lua.ts puts this file in front of each of them, after one line
-- that defines STOCK_EVENTS_CHANNEL (keys.ts). The record formats are those of docs/ARCHITECTURE.md §3.
--
-- Ledger entry: hash <tag>:ledger, field = order id, value = JSON
--   quantity           units reserved
--   user               buyer id, '' for a guest
--   reservedAt         ms epoch of the reservation (stale release compares it)
--   state              'reserved' (not yet seen by a processor) | 'claimed' (a processor batch holds it)
--   idempotencyRecord  the key of the request's idempotency record, '' when it sent no Idempotency-Key
-- Idempotency record: string <tag>:idem:<Idempotency-Key>, JSON {orderId, fingerprint}

local unitsCameBack = false

-- Put units back on sale and drop them from the buyer's held count: the one way units return
-- (a failed order's compensation, a cancellation, an undo, a stale release).
local function returnUnits (stockKey, usersKey, user, quantity)
  if redis.call('EXISTS', stockKey) == 1 then
    redis.call('INCRBY', stockKey, quantity)
    unitsCameBack = true
  end
  if user ~= '' and redis.call('HINCRBY', usersKey, user, -quantity) <= 0 then redis.call('HDEL', usersKey, user) end
end

-- Every gateway answers "sold out" (or "not started") from memory until it hears this: the message
-- is the product's hash tag, taken from any of its keys.
local function announceChange (anyKeyOfProduct)
  redis.call('PUBLISH', STOCK_EVENTS_CHANNEL, string.match(anyKeyOfProduct, '^{[^}]*}'))
end
