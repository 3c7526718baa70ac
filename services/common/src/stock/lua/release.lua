-- Return the units of a reservation that will never be applied: the gateway's publish failed (undo),
-- or the reservation went stale (its gateway died before publishing). Leaves a tombstone so that if
-- the order reaches Kafka after all, the processor fails it instead of selling its units twice.
--
-- KEYS[1] stock   KEYS[2] users   KEYS[3] ledger   KEYS[4] tombstone of this order
-- ARGV[1] orderId ARGV[2] tombstone TTL (s) ARGV[3] mode: 'undo' | 'stale' ARGV[4] stale cutoff (ms)
-- → units returned (0 if there was nothing to release), or -1 when a processor has already claimed
--   the reservation: its order is in Kafka after all (a publish that timed out but landed) and is
--   being applied, so its units are not the gateway's to give back.
local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
if entry.state == 'claimed' then return -1 end
if ARGV[3] == 'stale' and tonumber(entry.reservedAt) > tonumber(ARGV[4]) then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
returnUnits(KEYS[1], KEYS[2], entry.user, entry.quantity)
redis.call('SET', KEYS[4], '1', 'EX', ARGV[2])
-- The request was never answered 202: a retry with the same Idempotency-Key must reserve afresh.
if entry.idempotencyRecord ~= '' then redis.call('DEL', entry.idempotencyRecord) end
if unitsCameBack then announceChange(KEYS[1]) end
return entry.quantity
