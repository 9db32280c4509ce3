package devicelink

import "strconv"

// Redis key schema of the devicelink package. Every key starts with
// "ppp:dl:", and every key is built by a function of this file.
//
// Redis Cluster. Every key of one meter carries the meter id as its hash
// tag, "ppp:dl:m:{<id>}" and keys under it (meter ids cannot hold braces),
// so all of them live in one hash slot. Each Lua script and each MULTI
// block touches the keys of one meter only; enqueue.lua also reads older
// commands of the meter by a key prefix passed as an argument, which carries
// the same tag. The package's tests check every script call and
// transaction with redistest.RecordScriptKeys.
//
// The global keys have a slot each and are never touched by a script or
// a transaction: they change by single commands beside a meter's script,
// ordered so that a crash between the two leaves something a later read
// repairs:
//
//	ppp:dl:sim:<number>             STRING meter id holding the E.164 SIM number: one SIM,
//	                                       one meter. Claimed with SET NX before the meter
//	                                       is created, released only by the meter that
//	                                       holds it (release_sim.lua) when its creation
//	                                       fails or the meter gives the number up; a
//	                                       retried registration finds its own claim
//	ppp:dl:meters                   ZSET   meter id -> registration time (unix ms). Added
//	                                       (NX) before the meter is created; an entry
//	                                       naming no meter is skipped when listing
//	ppp:dl:cmdmeter                 HASH   command id -> meter id (global idempotency
//	                                       index). Claimed (HSETNX) before the command is
//	                                       stored; a retry finds its claim and completes
//	ppp:dl:timers                   ZSET   meter id -> wake_due (unix ms): index of armed
//	                                       timers, for the sweep to recover lost wake
//	                                       tasks. Lowered (ZADD LT) before a meter's
//	                                       wake_due is, raised or removed after, so a
//	                                       crash in between leaves it early, not late;
//	                                       the sweep re-indexes a meter it steps
//	ppp:dl:seen                     ZSET   meter id -> last exchange (unix ms, refreshed at
//	                                       most once a minute, and when a missing meter
//	                                       is back): missing-meter alarms; entries naming
//	                                       no meter are dropped by the sweep
//	ppp:dl:outbox                   SET    meter ids whose outcome sink has entries the
//	                                       Sink / FailureSink refused (retried by the
//	                                       sweep); the meter's acksink set is the truth
//
// Keys of one meter (slot of the tag {<id>}):
//
//	ppp:dl:m:{id}                   HASH   meter profile and link state:
//	                                       id, sim_number, zone, location, bays (JSON),
//	                                       key_epoch, key_enc (meter master key sealed
//	                                       with AES-GCM under the platform key, base64),
//	                                       created_at, in_ctr (last accepted m2p counter,
//	                                       decimal), out_ctr (last p2m counter, HINCRBY),
//	                                       chain_seq / chain_hash (last stored record),
//	                                       sink_seq (last record passed to the Sink),
//	                                       cmd_seq (enqueue order), last_seen, last_seen_ms,
//	                                       last_msg, last_reason, flags (JSON), hello_at,
//	                                       boot_count, missing_at;
//	                                       wake timer and episode: wake_due (ms), wake_seq,
//	                                       wake_attempts, wake_next_at (ms), wake_pending
//	                                       (attempt id awaiting connect-back),
//	                                       wake_pending_at (ms);
//	                                       key rotation: key_next_epoch, key_next_enc,
//	                                       key_next_cmd (staged), key_prev_epoch,
//	                                       key_prev_enc, key_prev_until (ms), rotate_seq
//	ppp:dl:m:{id}:txn               HASH   seq -> stored TxnRecord JSON
//	ppp:dl:m:{id}:txnid             HASH   txn_id -> seq (one payment is recorded once)
//	ppp:dl:m:{id}:bays              HASH   bay -> JSON {paid_until, source, ref, at_ms}
//	                                       (last known paid-until from uploads and acks)
//	ppp:dl:m:{id}:cmds              ZSET   every command id of the meter -> enqueue order
//	ppp:dl:m:{id}:open              ZSET   command ids still awaiting an outcome -> enqueue order
//	ppp:dl:m:{id}:acksink           SET    command ids whose outcome the Sink (or the
//	                                       FailureSink) has not taken
//	ppp:dl:m:{id}:steplock          STRING token of the wake step running for the meter (PX)
//	ppp:dl:m:{id}:wakes             ZSET   wake attempt seq -> time (unix ms), newest kept
//	ppp:dl:m:{id}:wake:<seq>        HASH   wake attempt: id, at, waker, call_sid, status,
//	                                       status_at, connected_at, connect (connected |
//	                                       timeout), error, commands (JSON)
//	ppp:dl:m:{id}:security          LIST   MeterEvent JSON, newest first (capped)
//	ppp:dl:m:{id}:events            LIST   MeterEvent JSON (status), newest first (capped)
//	ppp:dl:m:{id}:burst:<kind>:<w>  STRING count of refused envelopes of a kind in alert
//	                                       window w (unix ms / SecurityAlertWindow); PX two
//	                                       windows
//	ppp:dl:m:{id}:cmd:<cid>         HASH   command: id, meter, type, bay, txn_id,
//	                                       paid_until(_ms), not_after(_ms), state, created_at,
//	                                       updated_at, deliveries, result_paid_until, reason,
//	                                       reboots, delivered_boot; rotate_key also
//	                                       key_epoch, wrapped_key
//	ppp:dl:m:{id}:cmd:<cid>:hist    LIST   Transition JSON, oldest first
const keyPrefix = "ppp:dl:"

const (
	keyMeters     = keyPrefix + "meters"
	keyCmdToMeter = keyPrefix + "cmdmeter"
	keyTimers     = keyPrefix + "timers"
	keySeen       = keyPrefix + "seen"
	keyOutbox     = keyPrefix + "outbox"
)

func keySIM(number string) string      { return keyPrefix + "sim:" + number }
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
func keyStepLock(id string) string     { return keyMeter(id) + ":steplock" }
func keyWakes(id string) string        { return keyMeter(id) + ":wakes" }
func keyWake(id string, seq int64) string {
	return keyMeter(id) + ":wake:" + strconv.FormatInt(seq, 10)
}
func keySecurity(id string) string     { return keyMeter(id) + ":security" }
func keyStatusEvents(id string) string { return keyMeter(id) + ":events" }

func keySecurityBurst(id, kind, window string) string {
	return keyMeter(id) + ":burst:" + kind + ":" + window
}
