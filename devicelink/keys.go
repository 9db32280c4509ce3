package devicelink

// Redis key schema. Every key starts with "ppp:dl:". Keys of one meter carry
// the meter id as a hash tag ({id}) so that the Lua scripts touching several
// of them run on one Redis Cluster slot.
//
//	ppp:dl:meters                   ZSET   meter id -> registration time (unix ms)
//	ppp:dl:cmdmeter                 HASH   command id -> meter id (global idempotency index)
//	ppp:dl:m:{id}                   HASH   meter profile and link state:
//	                                       id, sim_number, zone, location, bays (JSON),
//	                                       key_epoch, key_enc (meter master key sealed
//	                                       with AES-GCM under the platform key, base64),
//	                                       created_at, in_ctr (last accepted m2p counter,
//	                                       decimal), out_ctr (last p2m counter, HINCRBY),
//	                                       chain_seq / chain_hash (last stored record),
//	                                       sink_seq (last record passed to the Sink),
//	                                       cmd_seq (enqueue order), last_seen, last_msg,
//	                                       last_reason, flags (JSON), hello_at
//	ppp:dl:m:{id}:txn               HASH   seq -> stored TxnRecord JSON
//	ppp:dl:m:{id}:txnid             HASH   txn_id -> seq (one payment is recorded once)
//	ppp:dl:m:{id}:bays              HASH   bay -> JSON {paid_until, source, ref, at_ms}
//	                                       (last known paid-until from uploads and acks)
//	ppp:dl:m:{id}:cmds              ZSET   every command id of the meter -> enqueue order
//	ppp:dl:m:{id}:open              ZSET   command ids still awaiting an outcome -> enqueue order
//	ppp:dl:m:{id}:acksink           SET    command ids whose outcome the Sink has not taken
//	ppp:dl:m:{id}:cmd:<cid>         HASH   command: id, meter, bay, txn_id, paid_until(_ms),
//	                                       not_after(_ms), state, created_at, updated_at,
//	                                       deliveries, result_paid_until, reason
//	ppp:dl:m:{id}:cmd:<cid>:hist    LIST   Transition JSON, oldest first
const keyPrefix = "ppp:dl:"

const (
	keyMeters     = keyPrefix + "meters"
	keyCmdToMeter = keyPrefix + "cmdmeter"
)

func keyMeter(id string) string        { return keyPrefix + "m:{" + id + "}" }
func keyTxn(id string) string          { return keyMeter(id) + ":txn" }
func keyTxnIDs(id string) string       { return keyMeter(id) + ":txnid" }
func keyBays(id string) string         { return keyMeter(id) + ":bays" }
func keyCmds(id string) string         { return keyMeter(id) + ":cmds" }
func keyOpen(id string) string         { return keyMeter(id) + ":open" }
func keyAckSink(id string) string      { return keyMeter(id) + ":acksink" }
func keyCmdPrefix(id string) string    { return keyMeter(id) + ":cmd:" }
func keyCmd(id, cid string) string     { return keyCmdPrefix(id) + cid }
func keyCmdHist(id, cid string) string { return keyCmd(id, cid) + ":hist" }
