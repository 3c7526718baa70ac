-- Join a product's waiting room: one place per buyer; joining again answers the same place.
-- Before the sale starts (Redis's clock) the score is the gateway's random draw in [0, 1), from the
-- start 1 + an arrival counter: every later arrival is behind every early one, in arrival order.
-- ARGV[1] buyer  ARGV[2] random score in [0, 1)  ARGV[3] '1' for a guest (only where the product allows guests)
-- → {'OFF'} | {'NOT_OPEN', opensAt (ms)} | {'SIGN_IN_REQUIRED'} | roomStatus
local now = redisNow()
if not roomIsOn() then return {'OFF'} end
if ARGV[3] == '1' and (redis.call('HGET', KEYS[5], 'limit') or '') ~= '' then return {'SIGN_IN_REQUIRED'} end
local buyer = ARGV[1]
local starts = startsAt()
if starts then
  local opensAt = starts - (tonumber(redis.call('HGET', KEYS[1], 'opensBefore') or '0') or 0)
  if now < opensAt then return {'NOT_OPEN', opensAt} end
end
local expires = tonumber(redis.call('ZSCORE', KEYS[4], buyer) or '0') or 0
if expires > 0 and expires <= now then
  redis.call('ZREM', KEYS[4], buyer)
  expires = 0
end
if expires == 0 and redis.call('ZSCORE', KEYS[2], buyer) == false then
  local score
  if starts and now < starts then score = ARGV[2]
  else score = 1 + redis.call('HINCRBY', KEYS[1], 'seq', 1) end
  redis.call('ZADD', KEYS[2], score, buyer)
  redis.call('HINCRBY', KEYS[1], 'joined', 1)
end
if expires == 0 then redis.call('ZADD', KEYS[3], now, buyer) end
return roomStatus(buyer, now)
