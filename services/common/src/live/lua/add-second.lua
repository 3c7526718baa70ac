-- One gateway's counts of one product for one second, added to what the other gateways added
-- (docs/ARCHITECTURE.md §11). The key expires: a live view reads only the last few seconds.
--
-- KEYS[1] the product's second ({product:<id>}:live:<epoch second>)
-- ARGV[1] TTL (s)   ARGV[2..] field, count, field, count … (accepted, refused, t<bucket>)
-- → 1
for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
