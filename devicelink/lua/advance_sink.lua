-- Advance the meter's Sink pointer from an expected value (compare-and-set), so
-- concurrent exchanges never move it backwards.
-- KEYS[1] meter hash
-- ARGV[1] expected sink_seq, ARGV[2] new sink_seq
-- returns 1 moved, 0 someone else moved it
local cur = redis.call('HGET', KEYS[1], 'sink_seq') or '0'
if cur ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'sink_seq', ARGV[2])
return 1
