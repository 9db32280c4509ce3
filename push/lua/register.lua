-- Registers a device token to a user.
-- KEYS[1] the user's device hash, KEYS[2] the token's owner key,
-- KEYS[3] the previous owner's device hash (KEYS[1] when none)
-- ARGV[1] user id, ARGV[2] token, ARGV[3] platform, ARGV[4] max devices,
-- ARGV[5] the owner the caller read ("" for none)
-- Returns 1 registered anew, 0 already registered, -1 the owner changed
-- meanwhile (read again), -2 too many devices.
local owner = redis.call('GET', KEYS[2]) or ''
if owner ~= ARGV[5] then
  return -1
end
local known = redis.call('HEXISTS', KEYS[1], ARGV[2])
if known == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then
  return -2
end
if owner ~= '' and owner ~= ARGV[1] then
  redis.call('HDEL', KEYS[3], ARGV[2])
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SET', KEYS[2], ARGV[1])
if known == 1 then
  return 0
end
return 1
