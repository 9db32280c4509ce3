-- Create a meter profile unless it exists.
-- KEYS[1] meter hash
-- ARGV    field, value pairs
-- returns 1 created, 0 already exists
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
