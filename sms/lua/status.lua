-- Move an outbound message's status forward, never backwards and never out
-- of a terminal status (callbacks can arrive out of order or twice).
-- KEYS[1] message record hash
-- ARGV[1] status  ARGV[2] its rank  ARGV[3] error code  ARGV[4] now (ms)  ARGV[5] sid
-- Returns 1 if the status changed, 0 if it was stale, -1 if no such record.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local rank = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
if rank >= 100 then return 0 end
local new = tonumber(ARGV[2])
if new <= rank then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'rank', ARGV[2], 'updated_ms', ARGV[4])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'error_code', ARGV[3]) end
if ARGV[5] ~= '' then redis.call('HSETNX', KEYS[1], 'sid', ARGV[5]) end
return 1
