-- Register or update a user and its phone and card indexes in one step.
-- KEYS[1] user record          KEYS[2] new phone index   KEYS[3] new card index
-- KEYS[4] old phone index      KEYS[5] old card index (the new ones when there is no old user)
-- ARGV[1] user id   ARGV[2] new user JSON
-- ARGV[3] the user JSON the caller read ("" when there was none)
-- ARGV[4] "1" when the user must already exist
-- Returns {"ok"}, {"missing"}, {"changed"} when the record moved since it
-- was read, or {"phone"|"card", owner} when another user holds the index.
local cur = redis.call('GET', KEYS[1])
if ARGV[4] == '1' and not cur then return {'missing'} end
if (cur or '') ~= ARGV[3] then return {'changed'} end
local p = redis.call('GET', KEYS[2])
if p and p ~= ARGV[1] then return {'phone', p} end
local c = redis.call('GET', KEYS[3])
if c and c ~= ARGV[1] then return {'card', c} end
if KEYS[4] ~= KEYS[2] and redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
if KEYS[5] ~= KEYS[3] and redis.call('GET', KEYS[5]) == ARGV[1] then redis.call('DEL', KEYS[5]) end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[1])
return {'ok'}
