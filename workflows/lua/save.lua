-- Save a conversation if its stored version is the expected one, and put
-- the step's effects in the outbox in the same commit.
-- KEYS[1] conversation hash   KEYS[2] history list   KEYS[3] phone's open set
-- KEYS[4] bay index           KEYS[5] all conversations (by update time)
-- KEYS[6] outbox stream       KEYS[7] phone's open conversations' user and card
-- ARGV[1] expected version ("0" to create)   ARGV[2] new version
-- ARGV[3] state JSON   ARGV[4] history entry JSON   ARGV[5] conversation id
-- ARGV[6] "1" if terminal   ARGV[7] last prompt (ms)   ARGV[8] now (ms)
-- ARGV[9] effects JSON ("" for none)   ARGV[10] retention of ended conversations (s)
-- ARGV[11] history entries kept (the first and the newest)
-- ARGV[12] user id and card token, for routing replies
-- Returns 1 when saved, 0 on a version mismatch.
local cur = redis.call('HGET', KEYS[1], 'v')
if not cur then cur = '0' end
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3])
local n = redis.call('RPUSH', KEYS[2], ARGV[4])
local cap = tonumber(ARGV[11])
if n > cap then
  -- Keep how it began and the newest cap-1; count what was dropped.
  local first = redis.call('LINDEX', KEYS[2], 0)
  redis.call('LTRIM', KEYS[2], n - cap + 1, -1)
  redis.call('LPUSH', KEYS[2], first)
  redis.call('HINCRBY', KEYS[1], 'd', n - cap)
end
if ARGV[6] == '1' then
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('HDEL', KEYS[7], ARGV[5])
  if redis.call('GET', KEYS[4]) == ARGV[5] then redis.call('DEL', KEYS[4]) end
  redis.call('EXPIRE', KEYS[1], ARGV[10])
  redis.call('EXPIRE', KEYS[2], ARGV[10])
else
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[5])
  redis.call('HSET', KEYS[7], ARGV[5], ARGV[12])
  -- A new conversation takes the bay; one that comes back (opt-in) takes
  -- it again only if no other conversation holds it.
  if ARGV[1] == '0' or not redis.call('GET', KEYS[4]) then redis.call('SET', KEYS[4], ARGV[5]) end
  if ARGV[1] ~= '0' then
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
  end
end
redis.call('ZADD', KEYS[5], ARGV[8], ARGV[5])
if ARGV[9] ~= '' then redis.call('XADD', KEYS[6], '*', 'c', ARGV[5], 'e', ARGV[9]) end
return 1
