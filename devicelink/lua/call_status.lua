-- Record a wake call's status unless a final status is already recorded
-- (carrier callbacks may arrive late, twice or out of order).
-- KEYS[1] wake attempt hash
-- ARGV[1] call sid ('' if unknown), ARGV[2] status, ARGV[3] now (RFC 3339),
-- ARGV[4] final statuses (",a,b,")
-- returns 1 recorded, 2 ignored (already final), 0 unknown attempt,
-- -1 call sid differs from the recorded one
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local sid = redis.call('HGET', KEYS[1], 'call_sid')
if ARGV[1] ~= '' then
  if sid and sid ~= '' and sid ~= ARGV[1] then
    return -1
  end
  if not sid or sid == '' then
    redis.call('HSET', KEYS[1], 'call_sid', ARGV[1])
  end
end
local cur = redis.call('HGET', KEYS[1], 'status') or ''
if string.find(ARGV[4], ',' .. cur .. ',', 1, true) then
  return 2
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'status_at', ARGV[3])
return 1
