-- Give a pass back: its order was undone (the publish failed), nothing was bought. Only while it is valid and
-- the buyer holds no other.
-- ARGV[1] buyer  ARGV[2] the pass's expiry (ms)  → {'RESTORED'} | {'GONE'}
local now = redisNow()
if tonumber(ARGV[2]) <= now or redis.call('ZSCORE', KEYS[4], ARGV[1]) ~= false then return {'GONE'} end
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'bought', -1)
return {'RESTORED'}
