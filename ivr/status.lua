-- Record a call status unless a terminal one is already recorded.
-- KEYS[1] status key  ARGV[1] status  ARGV[2] ttl seconds
-- Returns 1 if recorded, 0 if the call had already ended.
local cur = redis.call('GET', KEYS[1])
if cur == 'completed' or cur == 'busy' or cur == 'no-answer' or cur == 'failed' or cur == 'canceled' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
