-- Move a command to a new state if its current state allows it, record the
-- transition, and keep the meter's open set and ack-sink set in step.
-- KEYS[1] command hash, KEYS[2] history list, KEYS[3] open zset, KEYS[4] ack-sink set
-- ARGV[1] command id, ARGV[2] allowed source states (",a,b,"), ARGV[3] new state,
-- ARGV[4] now (RFC 3339), ARGV[5] note, ARGV[6] open set: 'keep' | 'remove',
-- ARGV[7] ack-sink set: 'none' | 'add' | 'remove', ARGV[8..] extra field, value pairs
-- returns {'ok', previous} | {'state', current} | {'missing', ''}
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then
  return {'missing', ''}
end
if not string.find(ARGV[2], ',' .. cur .. ',', 1, true) then
  return {'state', cur}
end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'updated_at', ARGV[4])
for i = 8, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('RPUSH', KEYS[2], cjson.encode({from = cur, to = ARGV[3], at = ARGV[4], note = ARGV[5]}))
if ARGV[6] == 'remove' then
  redis.call('ZREM', KEYS[3], ARGV[1])
end
if ARGV[7] == 'add' then
  redis.call('SADD', KEYS[4], ARGV[1])
elseif ARGV[7] == 'remove' then
  redis.call('SREM', KEYS[4], ARGV[1])
end
return {'ok', cur}
