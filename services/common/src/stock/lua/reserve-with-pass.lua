-- Reserve for a product whose waiting room is on (docs/ARCHITECTURE.md §10): reserve.lua's body runs
-- as the function `reserve` (store.ts puts it in front of this file), and the buyer's pass is used up
-- in the same step, so no admission tick can see a pass gone and its unit still for sale. A refused
-- order keeps its pass; a request whose Idempotency-Key is known is answered as reserve.lua answers it.
--
-- KEYS[1..5], ARGV[1..6]: reserve.lua's   KEYS[6] the room (hash)   KEYS[7] the room's admitted (zset)
-- ARGV[7] buyer   ARGV[8] the pass's expiry (ms)
-- → reserve.lua's replies | {'ROOM_PASS_INVALID', ''} (the buyer holds no such pass: used, lapsed, never issued)
if ARGV[6] == '' or redis.call('EXISTS', KEYS[5]) == 0 then
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  local held = tonumber(redis.call('ZSCORE', KEYS[7], ARGV[7]) or '0') or 0
  if held == 0 or held ~= tonumber(ARGV[8]) or held <= now then return {'ROOM_PASS_INVALID', ''} end
end
local reply = reserve()
if reply[1] == 'RESERVED' then
  redis.call('ZREM', KEYS[7], ARGV[7])
  redis.call('HINCRBY', KEYS[6], 'bought', 1)
end
return reply
