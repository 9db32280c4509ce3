-- Append uploaded records to a meter's hash chain, in sequence order.
-- A record at or below the stored head must equal the stored one (re-upload:
-- accepted idempotently); the next record must link to the stored head hash and
-- carry an unused txn_id; a record past the next one is a gap: nothing from it
-- on is accepted.
-- KEYS[1] meter hash, KEYS[2] records hash, KEYS[3] txn-id index, KEYS[4] bays hash
-- ARGV[1] genesis hash, ARGV[2] record count n, then 7 values per record:
--   seq, txn_id, prev_hash, hash, record json, bay, bay json (with at_ms)
-- returns {code, chain_seq, resend_from, bad_seq, stored}
--   code: 'ok' | 'gap' | 'chain' | 'conflict' | 'duplicate_txn'
local head = tonumber(redis.call('HGET', KEYS[1], 'chain_seq') or '0')
local headHash = redis.call('HGET', KEYS[1], 'chain_hash') or ARGV[1]
local n = tonumber(ARGV[2])
local stored = 0
for i = 0, n - 1 do
  local b = 3 + i * 7
  local seq = tonumber(ARGV[b])
  local txnID, prev, hash, rec, bay, bayJSON =
    ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]
  if seq <= head then
    local old = redis.call('HGET', KEYS[2], ARGV[b])
    if not old or cjson.decode(old).hash ~= hash then
      return {'conflict', head, 0, seq, stored}
    end
  elseif seq == head + 1 then
    if prev ~= headHash then
      return {'chain', head, 0, seq, stored}
    end
    if redis.call('HEXISTS', KEYS[3], txnID) == 1 then
      return {'duplicate_txn', head, 0, seq, stored}
    end
    redis.call('HSET', KEYS[2], ARGV[b], rec)
    redis.call('HSET', KEYS[3], txnID, ARGV[b])
    head = seq
    headHash = hash
    redis.call('HSET', KEYS[1], 'chain_seq', ARGV[b], 'chain_hash', hash)
    local cur = redis.call('HGET', KEYS[4], bay)
    if not cur or cjson.decode(cur).at_ms <= cjson.decode(bayJSON).at_ms then
      redis.call('HSET', KEYS[4], bay, bayJSON)
    end
    stored = stored + 1
  else
    return {'gap', head, head + 1, seq, stored}
  end
end
return {'ok', head, 0, 0, stored}
