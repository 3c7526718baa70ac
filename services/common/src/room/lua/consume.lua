-- Use a pass for one order: only the pass the buyer holds now (its expiry is the one in `admitted`),
-- once. The gateway verified its signature, product, buyer and expiry before.
-- ARGV[1] buyer  ARGV[2] the pass's expiry (ms)  → {'USED'} | {'INVALID'}
local now = redisNow()
local held = tonumber(redis.call('ZSCORE', KEYS[4], ARGV[1]) or '0') or 0
if held == 0 or held ~= tonumber(ARGV[2]) or held <= now then return {'INVALID'} end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'bought', 1)
return {'USED'}
