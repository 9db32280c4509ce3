-- Removes a device token from a user.
-- KEYS[1] the user's device hash, KEYS[2] the token's owner key
-- ARGV[1] user id, ARGV[2] token
-- Returns 1 when the token was registered to the user, else 0.
local n = redis.call('HDEL', KEYS[1], ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return n
