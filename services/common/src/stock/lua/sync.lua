-- Put MySQL stock on sale, safely during a sale (docs/ARCHITECTURE.md §4, "Stock on sale"): available = MySQL stock − units
-- reserved but not yet applied in MySQL. Refuses (RETRY) when any stock change started or finished
-- since the caller read `seq` before reading MySQL, and (BUSY) while a change is in flight, because
-- then the MySQL figure and the ledger may disagree about an order and the result could oversell.
--
-- KEYS[1] stock  KEYS[2] info  KEYS[3] ledger  KEYS[4] changes  KEYS[5] seq
-- ARGV[1] seq read before MySQL  ARGV[2] MySQL stock  ARGV[3] status  ARGV[4] per-user limit ('' none)
-- ARGV[5] now (ms)  ARGV[6] age (ms) after which an unfinished change counts as abandoned
-- ARGV[7] sale starts (ms, '' none, '-' unknown)  ARGV[8] sale ends (ms, '' none, '-' unknown)
-- → {'RETRY'} | {'BUSY'} | {'SET', before ('' if not on sale), after, pending}
if (redis.call('GET', KEYS[5]) or '0') ~= ARGV[1] then return {'RETRY'} end
local changes = redis.call('HGETALL', KEYS[4])
for i = 2, #changes, 2 do
  local age = tonumber(ARGV[5]) - tonumber(changes[i])
  -- An abandoned change (its process died) is ignored: its reservations are still in the ledger, so
  -- they are subtracted, which can only under-state what is available, never over-state it.
  if age < tonumber(ARGV[6]) then return {'BUSY'} end
  -- Long abandoned: forget it (a live process re-registers on its next attempt).
  if age > 10 * tonumber(ARGV[6]) then redis.call('HDEL', KEYS[4], changes[i - 1]) end
end
local pending = 0
for _, raw in ipairs(redis.call('HVALS', KEYS[3])) do
  pending = pending + cjson.decode(raw).quantity
end
local available = math.max(tonumber(ARGV[2]) - pending, 0)
local before = redis.call('GET', KEYS[1]) or ''
redis.call('SET', KEYS[1], available)
redis.call('HSET', KEYS[2], 'status', ARGV[3], 'limit', ARGV[4])
-- The sale window: '-' the caller does not know it (leave Redis's as it is); '' no bound (no field).
for i, field in ipairs({'starts', 'ends'}) do
  local bound = ARGV[6 + i]
  if bound == '' then redis.call('HDEL', KEYS[2], field) elseif bound ~= '-' then redis.call('HSET', KEYS[2], field, bound) end
end
-- Units may be back, or the product on sale again: gateways drop what they remembered of it.
announceChange(KEYS[1])
return {'SET', before, tostring(available), tostring(pending)}
