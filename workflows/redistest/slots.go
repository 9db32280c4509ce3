package redistest

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// SlotCount is the number of Redis Cluster hash slots.
const SlotCount = 16384

// Slot is the Redis Cluster hash slot of key: CRC16 (CCITT, XMODEM variant)
// of the key's hash tag, modulo 16384. The hash tag is the part between the
// first "{" and the first "}" after it, if that part is not empty; otherwise
// the whole key is hashed (Redis Cluster specification, "Hash tags").
//
// go-redis has the same algorithm in its internal/hashtag package, which Go
// does not let other modules import, so the few lines are repeated here.
// Unlike go-redis, which picks a random slot for "", this follows the
// specification: "" hashes to slot 0.
func Slot(key string) int {
	return int(crc16(HashTag(key))) % SlotCount
}

// HashTag is the part of key that Slot hashes: the text between the first
// "{" and the first "}" after it when not empty, else the whole key.
func HashTag(key string) string {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			return key[s+1 : s+1+e]
		}
	}
	return key
}

// crc16 is CRC-16/XMODEM: polynomial 0x1021, initial value 0, no
// reflection, no final xor (Redis Cluster specification, appendix A).
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// ScriptCall is one script call seen on a client.
type ScriptCall struct {
	// SHA1 identifies the script: the EVALSHA argument, or the SHA-1 of
	// the EVAL source, in lower-case hex (for FCALL, the function name).
	SHA1 string
	// Keys are the script's KEYS.
	Keys []string
}

// Tx is one MULTI/EXEC block seen on a client: the arguments of each
// queued command.
type Tx struct {
	Cmds [][]any
}

// ScriptKeys records, on one client, what Redis Cluster runs as one unit
// and therefore requires to live in one hash slot: the KEYS of every script
// call (EVAL, EVALSHA, their _RO forms and FCALL), sent alone or in a
// pipeline, and every MULTI/EXEC block (TxPipeline, TxPipelined).
// Create it with RecordScriptKeys, run the code under test, then assert
// with OneSlotPerScript and OneSlotPerTx.
type ScriptKeys struct {
	rdb *redis.Client

	mu      sync.Mutex
	scripts []ScriptCall
	txs     []Tx
}

// RecordScriptKeys adds a hook to rdb that records script calls and
// transactions from now on.
func RecordScriptKeys(rdb *redis.Client) *ScriptKeys {
	s := &ScriptKeys{rdb: rdb}
	rdb.AddHook(recordHook{s})
	return s
}

// Scripts returns the script calls recorded so far, in order. A script
// that go-redis sent as EVALSHA and then, missing from the server's cache,
// again as EVAL appears twice.
func (s *ScriptKeys) Scripts() []ScriptCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.scripts)
}

// Txs returns the MULTI/EXEC blocks recorded so far, in order.
func (s *ScriptKeys) Txs() []Tx {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.txs)
}

// OneSlotPerScript fails t for every script whose recorded calls did not
// all keep their KEYS in one slot; it names the first such call of each
// script.
func (s *ScriptKeys) OneSlotPerScript(t testing.TB) {
	t.Helper()
	bad := map[string]int{}
	var first []ScriptCall
	for _, c := range s.Scripts() {
		if len(slotsOf(c.Keys)) > 1 {
			if bad[c.SHA1] == 0 {
				first = append(first, c)
			}
			bad[c.SHA1]++
		}
	}
	for _, c := range first {
		t.Errorf("script %.12s touches %d hash slots in %d call(s), first: %s",
			c.SHA1, len(slotsOf(c.Keys)), bad[c.SHA1], describe(c.Keys))
	}
}

// OneSlotPerTx fails t for every recorded MULTI/EXEC block whose commands'
// keys do not all hash to one slot (Redis Cluster refuses such a
// transaction with CROSSSLOT). The keys of each command are those the
// server names for it (COMMAND GETKEYS), so it asks the client's server.
func (s *ScriptKeys) OneSlotPerTx(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	reported := map[string]bool{}
	for i, tx := range s.Txs() {
		var keys []string
		for _, args := range tx.Cmds {
			k, err := commandKeys(ctx, s.rdb, args)
			if err != nil {
				t.Errorf("transaction %d: %v", i, err)
				continue
			}
			keys = append(keys, k...)
		}
		names := commandNames(tx.Cmds)
		if slots := slotsOf(keys); len(slots) > 1 && !reported[names] {
			// One report for each shape of transaction (its commands).
			reported[names] = true
			t.Errorf("transaction %d (%s) touches %d hash slots: %s", i, names, len(slots), describe(keys))
		}
	}
}

// commandKeys asks the server which arguments of a command are keys.
func commandKeys(ctx context.Context, rdb *redis.Client, args []any) ([]string, error) {
	if len(args) < 2 {
		return nil, nil // a command with a key names it after the command name
	}
	keys, err := rdb.CommandGetKeys(ctx, args...).Result()
	var rerr redis.Error
	if errors.As(err, &rerr) && strings.Contains(strings.ToLower(rerr.Error()), "no key arguments") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys of %v: %w", args[0], err)
	}
	return keys, nil
}

func slotsOf(keys []string) map[int]bool {
	slots := map[int]bool{}
	for _, k := range keys {
		slots[Slot(k)] = true
	}
	return slots
}

func describe(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q (slot %d)", k, Slot(k))
	}
	return strings.Join(parts, ", ")
}

func commandNames(cmds [][]any) string {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = strings.ToUpper(fmt.Sprint(c[0]))
	}
	return strings.Join(names, " ")
}

// recordHook is the go-redis hook behind ScriptKeys.
type recordHook struct{ s *ScriptKeys }

func (h recordHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h recordHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.s.record([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (h recordHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.s.record(cmds)
		return next(ctx, cmds)
	}
}

// record notes the script calls among cmds, and cmds as a transaction when
// they are wrapped in MULTI ... EXEC (as go-redis sends a TxPipeline).
func (s *ScriptKeys) record(cmds []redis.Cmder) {
	var calls []ScriptCall
	for _, c := range cmds {
		if call, ok := scriptCall(c.Args()); ok {
			calls = append(calls, call)
		}
	}
	var tx *Tx
	if n := len(cmds); n >= 2 && strings.EqualFold(cmds[0].Name(), "multi") && strings.EqualFold(cmds[n-1].Name(), "exec") {
		tx = &Tx{}
		for _, c := range cmds[1 : n-1] {
			tx.Cmds = append(tx.Cmds, slices.Clone(c.Args()))
		}
	}
	if len(calls) == 0 && tx == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts = append(s.scripts, calls...)
	if tx != nil {
		s.txs = append(s.txs, *tx)
	}
}

// scriptCall reads a script call's SHA-1 and KEYS from its arguments:
// name, script or sha, numkeys, keys..., args...
func scriptCall(args []any) (ScriptCall, bool) {
	if len(args) < 3 {
		return ScriptCall{}, false
	}
	name := strings.ToLower(fmt.Sprint(args[0]))
	var sha string
	switch name {
	case "eval", "eval_ro":
		sum := sha1.Sum([]byte(fmt.Sprint(args[1])))
		sha = hex.EncodeToString(sum[:])
	case "evalsha", "evalsha_ro", "fcall", "fcall_ro":
		sha = strings.ToLower(fmt.Sprint(args[1]))
	default:
		return ScriptCall{}, false
	}
	n, err := strconv.Atoi(fmt.Sprint(args[2]))
	if err != nil || n < 0 || 3+n > len(args) {
		return ScriptCall{}, false
	}
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprint(args[3+i])
	}
	return ScriptCall{SHA1: sha, Keys: keys}, true
}
