-- Put in front of every room script by room/store.ts (docs/ARCHITECTURE.md §10).
-- Every room script takes the same keys:
-- KEYS[1] room (hash)  KEYS[2] queue (zset)  KEYS[3] seen (zset)  KEYS[4] admitted (zset)
-- KEYS[5] the product's info (hash)  KEYS[6] the product's stock

local function redisNow ()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000)
end

local function startsAt ()
  local starts = redis.call('HGET', KEYS[5], 'starts')
  if starts == false or starts == '' then return nil end
  return tonumber(starts)
end

local function roomIsOn ()
  return redis.call('HGET', KEYS[1], 'enabled') == '1'
end

-- What a buyer is told: {state, rank (-1: none), waiting, stock, admission rate, pass expiry (0: none),
-- freed, startsAt (0: none), now, passes outstanding}. Constant work: ZSCORE, ZRANK, ZCARD, HMGET, GET.
local function roomStatus (buyer, now)
  local stock = tonumber(redis.call('GET', KEYS[6]) or '0') or 0
  local counters = redis.call('HMGET', KEYS[1], 'rate', 'freed')
  local waiting = redis.call('ZCARD', KEYS[2])
  local rank = redis.call('ZRANK', KEYS[2], buyer)
  local expires = tonumber(redis.call('ZSCORE', KEYS[4], buyer) or '0') or 0
  if expires <= now then expires = 0 end
  local state
  if stock <= 0 then state = 'sold-out'
  elseif expires > 0 then state = 'admitted'
  elseif rank then state = 'waiting'
  else state = 'none' end
  return {state, rank or -1, waiting, stock, counters[1] or '0', expires, tonumber(counters[2] or '0'), startsAt() or 0, now,
    redis.call('ZCARD', KEYS[4])}
end
