-- Record a bay's last known paid-until time unless a newer report is stored.
-- KEYS[1] bays hash
-- ARGV[1] bay, ARGV[2] JSON {paid_until, source, ref, at_ms}, ARGV[3] at_ms
-- returns 1 stored, 0 older than the stored report
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cjson.decode(cur).at_ms > tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
