-- Set, lower or clear a meter's wake timer (the time the platform next acts
-- for the meter's open commands). The meter hash field wake_due is the truth;
-- the global timer index is kept by the caller.
-- KEYS[1] meter hash, KEYS[2] open zset
-- ARGV[1] mode: 'min' (set unless an earlier timer is set), 'replace' (the
--         caller consumed the timer ARGV[3]; set ARGV[2] unless the timer was
--         lowered meanwhile), 'clear' (drop it if nothing is open and it is
--         still ARGV[3])
-- ARGV[2] due, unix ms; ARGV[3] the timer the caller consumed
-- returns the timer now set (unix ms), 0 when cleared, -1 unknown meter
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local cur = redis.call('HGET', KEYS[1], 'wake_due')
local due = tonumber(ARGV[2])
local mode = ARGV[1]
if mode == 'min' then
  if not cur or due < tonumber(cur) then
    redis.call('HSET', KEYS[1], 'wake_due', ARGV[2])
    return due
  end
  return tonumber(cur)
elseif mode == 'replace' then
  if cur and cur ~= ARGV[3] and tonumber(cur) < due then
    return tonumber(cur)
  end
  redis.call('HSET', KEYS[1], 'wake_due', ARGV[2])
  return due
end
-- clear
if cur and cur ~= ARGV[3] then
  return tonumber(cur)
end
if redis.call('ZCARD', KEYS[2]) > 0 then
  if cur then
    return tonumber(cur)
  end
  redis.call('HSET', KEYS[1], 'wake_due', ARGV[2])
  return due
end
redis.call('HDEL', KEYS[1], 'wake_due')
return 0
