-- Finish a MySQL stock change of one product, after its transaction committed: apply its effects to
-- Redis exactly once, then unregister the change. Replaying a finish is harmless (I3): a confirmed or
-- failed order's ledger entry is gone after the first time, a cancellation's return leaves a marker.
--
-- KEYS[1] stock  KEYS[2] users  KEYS[3] ledger  KEYS[4] changes  KEYS[5] seq
-- ARGV[1] change token  ARGV[2] returned-marker prefix  ARGV[3] marker TTL (s)
-- ARGV[4..] operations, four fields each: op, orderId, quantity, userId
--   confirm: the order is in MySQL; drop its ledger entry
--   fail:    the order failed in MySQL; drop its ledger entry and put its units back on sale
--   return:  a confirmed order was cancelled in MySQL; put its units back on sale, once
--   add:     units were added to MySQL stock (restock); add them to Redis — only while the change is
--            still registered, so a retried or replayed finish never adds them twice
-- → {units compensated for failed orders, units returned by cancellations, units added}
local compensated, returned, added = 0, 0, 0
local registered = redis.call('HDEL', KEYS[4], ARGV[1]) == 1
for i = 4, #ARGV, 4 do
  local op, id, qty, user = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  if op == 'confirm' then
    redis.call('HDEL', KEYS[3], id)
  elseif op == 'fail' then
    local raw = redis.call('HGET', KEYS[3], id)
    if raw then
      local entry = cjson.decode(raw)
      redis.call('HDEL', KEYS[3], id)
      returnUnits(KEYS[1], KEYS[2], entry.user, entry.quantity)
      compensated = compensated + entry.quantity
    end
  elseif op == 'return' then
    if redis.call('SET', ARGV[2] .. id, '1', 'NX', 'EX', ARGV[3]) then
      returnUnits(KEYS[1], KEYS[2], user, qty)
      returned = returned + qty
    end
  elseif op == 'add' and registered then
    if redis.call('EXISTS', KEYS[1]) == 1 then
      redis.call('INCRBY', KEYS[1], qty)
      unitsCameBack = true
    end
    added = added + qty
  end
end
redis.call('INCR', KEYS[5])
if unitsCameBack then announceChange(KEYS[1]) end
return {compensated, returned, added}
