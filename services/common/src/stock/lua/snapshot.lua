-- Read one product's stock state at one instant (for reconciliation and tests).
-- KEYS[1] stock  KEYS[2] info  KEYS[3] ledger  KEYS[4] seq
-- → {available ('' if not on sale), status, limit, seq, ledger as flat orderId, entry pairs}
local out = {
  redis.call('GET', KEYS[1]) or '',
  redis.call('HGET', KEYS[2], 'status') or '',
  redis.call('HGET', KEYS[2], 'limit') or '',
  redis.call('GET', KEYS[4]) or '0'
}
local ledger = redis.call('HGETALL', KEYS[3])
for i = 1, #ledger do out[#out + 1] = ledger[i] end
return out
