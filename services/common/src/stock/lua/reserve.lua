-- Reserve units of one product, atomically on its shard (docs/ARCHITECTURE.md §4 step 2).
-- Checks before it changes anything, so a refused buyer leaves no trace, and a buyer is refused as
-- sold out only when fewer units remain than asked for (I5; no DECRBY-then-check).
--
-- KEYS[1] stock   KEYS[2] info   KEYS[3] users   KEYS[4] ledger   KEYS[5] idempotency record
-- ARGV[1] orderId ARGV[2] quantity ARGV[3] userId ('' = guest) ARGV[4] now (ms)
-- ARGV[5] idempotency TTL (s) ARGV[6] request fingerprint ('' = no Idempotency-Key)
-- → {'RESERVED', unitsLeft} | {'DUPLICATE', firstOrderId} | {'KEY_REUSED', firstOrderId}
--   {'NOT_ON_SALE', ''} | {'PER_USER_LIMIT', unitsTheUserMayStillBuy} | {'INSUFFICIENT_STOCK', unitsLeft}
--   {'SALE_NOT_STARTED', starts (ms), redisNow (ms)} | {'SALE_ENDED', ends (ms)}
--   {'SIGN_IN_REQUIRED', ''} (a guest, user '', asks for a product with a per-user limit)
local qty = tonumber(ARGV[2])
local user = ARGV[3]
local fingerprint = ARGV[6]

if fingerprint ~= '' then
  local first = redis.call('GET', KEYS[5])
  if first then
    local record = cjson.decode(first)
    if record.fingerprint ~= fingerprint then return {'KEY_REUSED', record.orderId} end
    return {'DUPLICATE', record.orderId}
  end
end

if redis.call('HGET', KEYS[2], 'status') ~= 'active' then return {'NOT_ON_SALE', ''} end

-- Sale window: judged by Redis's clock, so every gateway agrees to the millisecond
-- whatever its own clock says. A reservation under a window records that clock in its ledger entry.
local window = redis.call('HMGET', KEYS[2], 'starts', 'ends')
local reservedAt = ARGV[4]
if (window[1] or '') ~= '' or (window[2] or '') ~= '' then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  if (window[1] or '') ~= '' and now < tonumber(window[1]) then return {'SALE_NOT_STARTED', window[1], tostring(now)} end
  if (window[2] or '') ~= '' and now >= tonumber(window[2]) then return {'SALE_ENDED', window[2]} end
  reservedAt = tostring(now)
end
local stock = tonumber(redis.call('GET', KEYS[1]))
if stock == nil then return {'NOT_ON_SALE', ''} end

local limit = tonumber(redis.call('HGET', KEYS[2], 'limit'))
-- A limit counts units per buyer: a guest has no identity to count against.
if limit ~= nil and user == '' then return {'SIGN_IN_REQUIRED', ''} end
if limit ~= nil and user ~= '' then
  local held = tonumber(redis.call('HGET', KEYS[3], user)) or 0
  if held + qty > limit then return {'PER_USER_LIMIT', tostring(math.max(limit - held, 0))} end
end

if stock < qty then return {'INSUFFICIENT_STOCK', tostring(stock)} end

local left = redis.call('DECRBY', KEYS[1], qty)
if user ~= '' then redis.call('HINCRBY', KEYS[3], user, qty) end
-- The ledger entry is what stock sync subtracts from MySQL stock, and what the processor claims.
local idempotencyRecord = ''
if fingerprint ~= '' then idempotencyRecord = KEYS[5] end
redis.call('HSET', KEYS[4], ARGV[1], cjson.encode({
  quantity = qty, user = user, reservedAt = reservedAt, state = 'reserved', idempotencyRecord = idempotencyRecord
}))
if fingerprint ~= '' then
  -- A retry with the same key answers this order (once Kafka acknowledged it: its pending record).
  redis.call('SET', KEYS[5], cjson.encode({ orderId = ARGV[1], fingerprint = fingerprint }), 'EX', ARGV[5])
end
return {'RESERVED', tostring(left)}
