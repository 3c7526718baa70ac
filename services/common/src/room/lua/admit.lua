-- One pacer tick (docs/ARCHITECTURE.md §10). Taken by at most one gateway per tick interval (the
-- `tick` field, Redis's clock), so several gateways admit at the pace of one. A `tick` in the future
-- pauses every pacer until then (a caller with a negative interval still steps: tests, operators).
-- ARGV[1] tick interval (ms)  ARGV[2] keep (ms)  ARGV[3] pass validity (ms)
-- ARGV[4] window: most passes outstanding  ARGV[5] most admissions this tick  ARGV[6] most places freed
-- → {'OFF'} | {'BUSY'} | {'TICK', admitted buyers (array), stock, outstanding, buyRate, rate, freed, lapsed, pass expiry}
local now = redisNow()
if not roomIsOn() then return {'OFF'} end
local interval = tonumber(ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[1], 'tick') or '0') or 0
if now - last < interval then return {'BUSY'} end
if last < now then redis.call('HSET', KEYS[1], 'tick', now) end

-- Places not polled within the keep time, a bounded batch per tick.
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[6]))
if #gone > 0 then
  redis.call('ZREM', KEYS[2], unpack(gone))
  redis.call('ZREM', KEYS[3], unpack(gone))
  redis.call('HINCRBY', KEYS[1], 'freed', #gone)
end
local lapsed = redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
if lapsed > 0 then redis.call('HINCRBY', KEYS[1], 'lapsed', lapsed) end

-- Moving averages per second: passes used (what the order path takes) and admissions.
local counters = redis.call('HMGET', KEYS[1], 'bought', 'boughtAtTick', 'buyRate', 'rate')
local bought = tonumber(counters[1] or '0') or 0
local dt = now - last
if last == 0 or dt <= 0 then dt = math.max(interval, 1) end
local buyRate = 0.7 * (tonumber(counters[3] or '0') or 0) + 0.3 * ((bought - (tonumber(counters[2] or '0') or 0)) * 1000 / dt)
local stock = tonumber(redis.call('GET', KEYS[6]) or '0') or 0
local outstanding = redis.call('ZCARD', KEYS[4])

local admitted = {}
local starts = startsAt()
if stock > 0 and not (starts and now < starts) then
  local n = math.min(stock - outstanding, tonumber(ARGV[4]) - outstanding, tonumber(ARGV[5]))
  if n > 0 then
    local expires = now + tonumber(ARGV[3])
    local front = redis.call('ZPOPMIN', KEYS[2], n)
    for i = 1, #front, 2 do
      admitted[#admitted + 1] = front[i]
      redis.call('ZADD', KEYS[4], expires, front[i])
    end
    if #admitted > 0 then
      redis.call('ZREM', KEYS[3], unpack(admitted))
      redis.call('HINCRBY', KEYS[1], 'admitted', #admitted)
    end
  end
end
local rate = 0.7 * (tonumber(counters[4] or '0') or 0) + 0.3 * (#admitted * 1000 / dt)
redis.call('HSET', KEYS[1], 'boughtAtTick', bought, 'buyRate', tostring(buyRate), 'rate', tostring(rate))
return {'TICK', admitted, stock, outstanding + #admitted, tostring(buyRate), tostring(rate), #gone, lapsed, now + tonumber(ARGV[3])}
