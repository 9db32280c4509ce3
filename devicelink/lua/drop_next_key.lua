-- Forget a staged next key whose rotate_key command ended without being
-- applied, so a new rotation can start.
-- KEYS[1] meter hash
-- ARGV[1] command id of the rotation
-- returns 1 dropped, 0 not staged by that command
if redis.call('HGET', KEYS[1], 'key_next_cmd') ~= ARGV[1] then
  return 0
end
redis.call('HDEL', KEYS[1], 'key_next_epoch', 'key_next_enc', 'key_next_cmd')
return 1
