-- Stage a meter's next key unless a rotation is already staged.
-- KEYS[1] meter hash
-- ARGV[1] next epoch, ARGV[2] next key sealed under the platform key,
-- ARGV[3] command id carrying it
-- returns {staged epoch, command id} (the existing ones if already staged),
-- or {-1, ''} for an unknown meter
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1, ''}
end
local ep, cmd = unpack(redis.call('HMGET', KEYS[1], 'key_next_epoch', 'key_next_cmd'))
if ep then
  return {tonumber(ep), cmd or ''}
end
redis.call('HSET', KEYS[1], 'key_next_epoch', ARGV[1], 'key_next_enc', ARGV[2], 'key_next_cmd', ARGV[3])
return {tonumber(ARGV[1]), ARGV[3]}
