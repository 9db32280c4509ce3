package devicelink_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/devicelink"
	"ppprenew/workflows/redistest"
)

// checkSlots records the script calls and transactions of rdb and, when the
// test ends, fails it if any of them touched more than one Redis Cluster
// hash slot. Every harness does it, so every test of the package checks the
// code paths it runs.
func checkSlots(t testing.TB, rdb *redis.Client) *redistest.ScriptKeys {
	t.Helper()
	rec := redistest.RecordScriptKeys(rdb)
	// Registered after redistest.Client's cleanup, so it runs while the
	// client is still open (OneSlotPerTx asks the server for command keys).
	t.Cleanup(func() {
		rec.OneSlotPerScript(t)
		rec.OneSlotPerTx(t)
	})
	return rec
}

// TestEveryScriptTouchesOneSlot runs each of the package's Lua scripts at
// least once, through the operations that use them, and checks that every
// script call and every transaction stays in one hash slot: a key of
// another slot added to a script or a MULTI block fails it.
func TestEveryScriptTouchesOneSlot(t *testing.T) {
	h, waker := newWakeHarness(t, func(c *devicelink.Config) { c.OldEpochWindow = time.Hour })

	// Registration: SIM claim, meter creation, and the release of a claim
	// whose creation failed (the id exists).
	m := h.meter("M-1", "12", "13")
	h.meter("M-2", "12")
	if _, err := h.svc.CreateMeter(h.ctx, devicelink.Meter{ID: "M-1", SIMNumber: "+85261110002", Bays: []string{"1"}}); !errors.Is(err, devicelink.ErrExists) {
		t.Fatalf("duplicate meter: %v", err)
	}

	// Exchanges: counter, touch, chained upload passed to the sink.
	m.hello(devicelink.ReasonBoot, &devicelink.Flags{BatteryPct: 90})
	m.mustSend(upload(m.next("12", 30), m.next("13", 60)))

	// Commands: enqueue, supersede, wake timer, wake step with its lock,
	// attempt and call status, connect-back, delivery, ack, bay report.
	h.clock.Advance(time.Minute)
	until := h.clock.Now().Add(time.Hour)
	h.enqueue("c-1", "M-1", "12", until)
	h.enqueue("c-2", "M-1", "12", until.Add(time.Minute)) // supersedes c-1
	h.enqueue("c-3", "M-1", "13", until)
	h.clock.Advance(2 * time.Second)
	if r := h.sweep(); r.Steps != 1 || len(waker.Requests()) != 1 {
		t.Fatalf("sweep = %+v, %d wakes", r, len(waker.Requests()))
	}
	if err := h.svc.CallStatus(h.ctx, "M-1:1", "CA00000000000000000000000000000001", "busy"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5 * time.Second)
	rep := m.hello(devicelink.ReasonWake, &devicelink.Flags{BatteryPct: 80})
	if !slices.Equal(commandIDs(rep.Commands), []string{"c-2", "c-3"}) {
		t.Fatalf("connect-back reply carries %v", commandIDs(rep.Commands))
	}
	m.mustSend(ackApplied(rep.Commands[0], until.Add(time.Minute)))
	m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgBye})

	// Key rotation: staged, dropped when cancelled, staged again and
	// promoted when the meter uses the new key.
	id, err := h.svc.RotateKey(h.ctx, "M-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.CancelCommand(h.ctx, id, "restart"); err != nil {
		t.Fatal(err)
	}
	if id, err = h.svc.RotateKey(h.ctx, "M-1"); err != nil {
		t.Fatal(err)
	}
	var rot devicelink.CommandMessage
	for _, c := range m.mustSend(poll).Commands {
		if c.CommandID == id {
			rot = c
		}
	}
	next, err := devicelink.UnwrapKey(m.key, "M-1", rot.KeyEpoch, rot.WrappedKey)
	if err != nil {
		t.Fatalf("rotate command %+v: %v", rot, err)
	}
	if err := m.codec.Rekey(rot.KeyEpoch, next); err != nil {
		t.Fatal(err)
	}
	m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgAck, Acks: []devicelink.AckMessage{{CommandID: id, Status: devicelink.AckApplied}}})
	if got, _ := h.svc.Meter(h.ctx, "M-1"); got.KeyEpoch != rot.KeyEpoch {
		t.Fatalf("epoch %d after the rotation", got.KeyEpoch)
	}

	// A failed wake call, a refused envelope, and the sweep clearing timers.
	waker.OnWake = func(_ context.Context, _ devicelink.WakeRequest) (devicelink.WakeResult, error) {
		return devicelink.WakeResult{}, errors.New("carrier down")
	}
	h.enqueue("c-4", "M-2", "12", until)
	h.clock.Advance(3 * time.Second)
	h.sweep()
	env, _, _ := m.codec.SealMessage(poll)
	env[len(env)-1] ^= 1
	if _, err := h.svc.Exchange(h.ctx, env); !errors.Is(err, devicelink.ErrAuth) {
		t.Fatalf("flipped envelope: %v", err)
	}
	h.clock.Advance(time.Hour)
	h.sweep()
	if _, err := h.svc.Status(h.ctx, "M-1"); err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	for _, c := range h.slots.Scripts() {
		seen[c.SHA1] = true
	}
	for name, sha := range devicelink.ScriptSHAs() {
		if !seen[sha] {
			t.Errorf("script %s never ran: add an operation that uses it to this test", name)
		}
	}
	if len(h.slots.Txs()) == 0 {
		t.Error("no transaction recorded")
	}
	h.slots.OneSlotPerScript(t)
	h.slots.OneSlotPerTx(t)
}

// TestSlotCheckCatchesACrossSlotScript makes sure the check every harness
// runs would see a script given keys of two meters.
func TestSlotCheckCatchesACrossSlotScript(t *testing.T) {
	rdb := redistest.Client(t, redistest.DBDeviceLink)
	rec := redistest.RecordScriptKeys(rdb)
	s := redis.NewScript(`return redis.call('EXISTS', KEYS[1], KEYS[2])`)
	// Cross-slot keys run on a single server, which is what makes the
	// mistake easy to miss without this check.
	if err := s.Run(context.Background(), rdb, []string{devicelink.KeyMeter("M-1"), devicelink.KeyMeter("M-2")}).Err(); err != nil {
		t.Fatal(err)
	}
	var got collect
	rec.OneSlotPerScript(&got)
	if len(got.errs) == 0 {
		t.Fatal("a script touching two meters passed the slot check")
	}
	if !strings.Contains(got.errs[0], "{M-2}") {
		t.Errorf("failure %q does not name the keys", got.errs[0])
	}
}

// collect is a testing.TB that keeps failures instead of failing.
type collect struct {
	testing.TB
	errs []string
}

func (c *collect) Helper() {}
func (c *collect) Errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}
