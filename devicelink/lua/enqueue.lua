-- Store a new command unless its id exists; a renewal supersedes the meter's
-- undelivered renewals for the same bay whose paid_until is not later.
-- KEYS[1] meter hash, KEYS[2] command hash, KEYS[3] history list,
-- KEYS[4] all-commands zset, KEYS[5] open zset
-- ARGV[1] command key prefix, ARGV[2] command id, ARGV[3] bay, ARGV[4] paid_until_ms,
-- ARGV[5] now (RFC 3339), ARGV[6] states that may be superseded (",a,b,"),
-- ARGV[7] creation history JSON, ARGV[8..] command field, value pairs
-- Older command keys are built from ARGV[1]; they share the meter's hash tag, so
-- they live in the same Redis Cluster slot as KEYS.
-- returns -1 unknown meter, 0 exists, or {1, superseded ids...}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local id, bay, limit, now = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local out = {1}
local olds = {}
if bay ~= '' then
  olds = redis.call('ZRANGE', KEYS[5], 0, -1)
end
for _, old in ipairs(olds) do
  local k = ARGV[1] .. old
  local st, b, pu, ty = unpack(redis.call('HMGET', k, 'state', 'bay', 'paid_until_ms', 'type'))
  if b == bay and (not ty or ty == 'renew') and st and string.find(ARGV[6], ',' .. st .. ',', 1, true) and tonumber(pu) <= limit then
    redis.call('HSET', k, 'state', 'superseded', 'updated_at', now, 'reason', 'superseded by ' .. id)
    redis.call('RPUSH', k .. ':hist', cjson.encode({from = st, to = 'superseded', at = now, note = 'superseded by ' .. id}))
    redis.call('ZREM', KEYS[5], old)
    table.insert(out, old)
  end
end
local seq = redis.call('HINCRBY', KEYS[1], 'cmd_seq', 1)
local fields = {}
for i = 8, #ARGV do
  table.insert(fields, ARGV[i])
end
redis.call('HSET', KEYS[2], 'seq', seq, unpack(fields))
redis.call('RPUSH', KEYS[3], ARGV[7])
redis.call('ZADD', KEYS[4], seq, id)
redis.call('ZADD', KEYS[5], seq, id)
return out
