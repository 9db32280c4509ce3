-- Make the staged next key current once the meter used it; the previous key
-- stays accepted until ARGV[2].
-- KEYS[1] meter hash
-- ARGV[1] epoch the meter used, ARGV[2] previous key accepted until (unix ms)
-- returns 1 promoted, 0 nothing staged for that epoch
local ep, enc = unpack(redis.call('HMGET', KEYS[1], 'key_next_epoch', 'key_next_enc'))
if not ep or ep ~= ARGV[1] then
  return 0
end
local curEp, curEnc = unpack(redis.call('HMGET', KEYS[1], 'key_epoch', 'key_enc'))
redis.call('HSET', KEYS[1], 'key_prev_epoch', curEp, 'key_prev_enc', curEnc, 'key_prev_until', ARGV[2],
  'key_epoch', ep, 'key_enc', enc)
redis.call('HDEL', KEYS[1], 'key_next_epoch', 'key_next_enc', 'key_next_cmd')
return 1
