-- Accept a meter->platform counter only if it is above the last accepted one.
-- Counters are unsigned 64-bit decimals without leading zeros, compared as
-- strings (length first) so no precision is lost.
-- KEYS[1] meter hash
-- ARGV[1] counter
-- returns 1 accepted, 0 replay, -1 unknown meter
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local last = redis.call('HGET', KEYS[1], 'in_ctr') or '0'
local c = ARGV[1]
if #c < #last or (#c == #last and c <= last) then
  return 0
end
redis.call('HSET', KEYS[1], 'in_ctr', c)
return 1
