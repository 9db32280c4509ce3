package redistest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/redistest"
)

func TestSlot(t *testing.T) {
	tests := []struct {
		given string
		want  int
	}{
		// CRC-16/XMODEM's check value: crc("123456789") = 0x31C3.
		{"123456789", 0x31C3 % redistest.SlotCount},
		// Values printed by CLUSTER KEYSLOT in the Redis documentation.
		{"somekey", 11058},
		{"foo{hash_tag}", 2515},
		{"bar{hash_tag}", 2515},
		{"foo", 12182},
		{"", 0},
	}
	for _, tc := range tests {
		t.Run(tc.given, func(t *testing.T) {
			if got := redistest.Slot(tc.given); got != tc.want {
				t.Errorf("Slot(%q) = %d, want %d", tc.given, got, tc.want)
			}
		})
	}
}

func TestHashTag(t *testing.T) {
	// The examples of the Redis Cluster specification.
	tests := []struct {
		given, want string
	}{
		{"{user1000}.following", "user1000"},
		{"{user1000}.followers", "user1000"},
		{"foo{}{bar}", "foo{}{bar}"}, // empty tag: the whole key
		{"foo{{bar}}zap", "{bar"},    // from the first "{" to the first "}"
		{"foo{bar}{zap}", "bar"},     // only the first tag counts
		{"nobraces", "nobraces"},
		{"open{only", "open{only"},
		{"close}only{", "close}only{"},
		{"ppp:dl:m:{M-1}:cmd:c-1", "M-1"},
	}
	for _, tc := range tests {
		t.Run(tc.given, func(t *testing.T) {
			if got := redistest.HashTag(tc.given); got != tc.want {
				t.Errorf("HashTag(%q) = %q, want %q", tc.given, got, tc.want)
			}
			if redistest.Slot(tc.given) != redistest.Slot(tc.want) {
				t.Errorf("Slot(%q) = %d, differs from Slot(%q) = %d", tc.given, redistest.Slot(tc.given), tc.want, redistest.Slot(tc.want))
			}
		})
	}
	if a, b := redistest.Slot("{user1000}.following"), redistest.Slot("{user1000}.followers"); a != b {
		t.Errorf("keys with one tag in slots %d and %d", a, b)
	}
	if redistest.Slot("foo{}{bar}") == redistest.Slot("bar") {
		t.Error(`"foo{}{bar}" hashed as "bar"`)
	}
}

// recorder is a testing.TB that keeps failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestRecordScriptKeys(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t, dbForeign)
	rec := redistest.RecordScriptKeys(rdb)
	script := redis.NewScript(`return #KEYS`)

	// One slot: alone, in a pipeline and in a transaction.
	if err := script.Run(ctx, rdb, []string{"{a}:1", "{a}:2"}).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		script.Eval(ctx, p, []string{"{b}:1", "{b}:2"})
		p.Set(ctx, "x", 1, 0)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, "{c}:h", "f", 1)
		p.Del(ctx, "{c}:1", "{c}:2")
		p.Ping(ctx) // no key
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Scripts()); n < 2 {
		t.Fatalf("%d script calls recorded, want at least 2", n)
	}
	if n := len(rec.Txs()); n != 1 {
		t.Fatalf("%d transactions recorded, want 1", n)
	}
	var ok recorder
	rec.OneSlotPerScript(&ok)
	rec.OneSlotPerTx(&ok)
	if len(ok.errs) > 0 {
		t.Fatalf("single-slot calls reported: %v", ok.errs)
	}

	// Two slots: every kind is reported.
	if err := script.Run(ctx, rdb, []string{"{a}:1", "{z}:1"}).Err(); err != nil {
		t.Fatal(err)
	}
	other := redis.NewScript(`return #ARGV`)
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		other.Eval(ctx, p, []string{"{b}:1", "b:2"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, "{c}:h", "f", 1)
		p.Incr(ctx, "{d}:n")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, "{e}:1", "{f}:1") // one command, two slots
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A second cross-slot call of a script is counted in the first report.
	if err := script.Run(ctx, rdb, []string{"{a}:1", "{y}:1"}).Err(); err != nil {
		t.Fatal(err)
	}
	var bad recorder
	rec.OneSlotPerScript(&bad)
	rec.OneSlotPerTx(&bad)
	want := []string{`2 call(s), first: "{a}:1" (slot 15495), "{z}:1"`, `"b:2"`, `"{d}:n"`, `"{f}:1"`}
	if len(bad.errs) != len(want) {
		t.Fatalf("%d failures reported, want %d: %v", len(bad.errs), len(want), bad.errs)
	}
	for i, w := range want {
		if !strings.Contains(bad.errs[i], w) {
			t.Errorf("failure %d = %q, want it to name %s", i, bad.errs[i], w)
		}
	}
}
