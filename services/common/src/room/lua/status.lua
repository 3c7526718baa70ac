-- A waiting buyer's poll: refreshes the place (kept ROOM_KEEP_SECONDS after the last poll).
-- ARGV[1] buyer  → {'OFF'} | roomStatus
local now = redisNow()
if not roomIsOn() then return {'OFF'} end
local buyer = ARGV[1]
if redis.call('ZSCORE', KEYS[2], buyer) ~= false then redis.call('ZADD', KEYS[3], now, buyer) end
return roomStatus(buyer, now)
