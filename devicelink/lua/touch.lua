-- Record an authenticated exchange: last seen time and message, and end the
-- meter's wake episode (it is reachable). A pending wake attempt is matched if
-- the exchange came within the connect-back deadline.
-- KEYS[1] meter hash
-- ARGV[1] now (RFC 3339), ARGV[2] now (unix ms), ARGV[3] message type,
-- ARGV[4] connect-back deadline (ms)
-- returns {matched attempt id or '', previous last_seen ms, missing alarm was set (0/1)}
local prev = redis.call('HGET', KEYS[1], 'last_seen_ms') or '0'
local pending, pendingAt, missing = unpack(redis.call('HMGET', KEYS[1], 'wake_pending', 'wake_pending_at', 'missing_at'))
local now = tonumber(ARGV[2])
local matched = ''
if pending and pendingAt and now - tonumber(pendingAt) <= tonumber(ARGV[4]) then
  matched = pending
end
redis.call('HSET', KEYS[1], 'last_seen', ARGV[1], 'last_seen_ms', ARGV[2], 'last_msg', ARGV[3])
redis.call('HDEL', KEYS[1], 'wake_pending', 'wake_pending_at', 'wake_attempts', 'wake_next_at', 'missing_at')
local wasMissing = 0
if missing then
  wasMissing = 1
end
return {matched, prev, wasMissing}
