-- One client's requests in the current window (POST /orders rate limit): count this one, start the
-- window's expiry on its first request, and answer the count and the milliseconds left.
-- KEYS[1] the client's counter  ARGV[1] window (ms)
-- → {requests in this window, ms until the window ends}
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A counter that lost its expiry (e.g. written by an older version) would block the client forever.
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
