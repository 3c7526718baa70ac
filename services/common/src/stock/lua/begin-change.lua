-- Start a MySQL stock change of one product (a processor batch, a restock). Registers the change so
-- that stock sync does not compute "MySQL − ledger" while MySQL is moving, and claims the batch's
-- reservations so that none of them is released as stale while it is being applied.
--
-- KEYS[1] ledger  KEYS[2] changes  KEYS[3] seq
-- ARGV[1] change token  ARGV[2] now (ms)  ARGV[3] tombstone key prefix  ARGV[4..] order ids
-- → one state per order id: 'live' (reserved here), 'void' (released: the order must fail),
--   'unknown' (no reservation: already applied, or lost in a Redis failover; MySQL's guard decides)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[3])
local states = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then
    local entry = cjson.decode(raw)
    if entry.state ~= 'claimed' then
      entry.state = 'claimed'
      redis.call('HSET', KEYS[1], id, cjson.encode(entry))
    end
    states[#states + 1] = 'live'
  elseif redis.call('EXISTS', ARGV[3] .. id) == 1 then
    states[#states + 1] = 'void'
  else
    states[#states + 1] = 'unknown'
  end
end
return states
