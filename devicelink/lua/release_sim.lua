-- Release a SIM number's index entry if it still names the meter.
-- KEYS[1] SIM index key
-- ARGV[1] meter id
-- returns 1 released, 0 held by another meter or absent
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
