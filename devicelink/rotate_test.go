package devicelink_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"ppprenew/devicelink"
)

func TestKeyRotation(t *testing.T) {
	h := newHarnessWith(t, func(c *devicelink.Config) { c.OldEpochWindow = time.Hour })
	m := h.meter("M-1", "12")
	id, err := h.svc.RotateKey(h.ctx, "M-1")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := h.svc.RotateKey(h.ctx, "M-1"); err != nil || again != id {
		t.Fatalf("second RotateKey = %q, %v; want the staged %q", again, err, id)
	}
	if !h.status("M-1").KeyRotationPending {
		t.Error("rotation not shown as pending")
	}
	rep := m.mustSend(poll)
	if len(rep.Commands) != 1 {
		t.Fatalf("commands = %+v", rep.Commands)
	}
	cmd := rep.Commands[0]
	if cmd.Type != devicelink.CommandRotateKey || cmd.KeyEpoch != 2 || cmd.WrappedKey == "" || cmd.Bay != "" {
		t.Fatalf("rotate command = %+v", cmd)
	}
	if _, err := devicelink.UnwrapKey(bytes.Repeat([]byte{1}, 32), "M-1", 2, cmd.WrappedKey); !errors.Is(err, devicelink.ErrAuth) {
		t.Errorf("unwrap with another key: %v", err)
	}
	if _, err := devicelink.UnwrapKey(m.key, "M-2", 2, cmd.WrappedKey); !errors.Is(err, devicelink.ErrAuth) {
		t.Errorf("unwrap for another meter: %v", err)
	}
	next, err := devicelink.UnwrapKey(m.key, "M-1", 2, cmd.WrappedKey)
	if err != nil || len(next) != devicelink.KeyLen || bytes.Equal(next, m.key) {
		t.Fatalf("unwrap: %v", err)
	}
	// The old key keeps working until the meter uses the new one.
	oldCounter, _ := m.codec.Counters()
	m.mustSend(poll)
	if got, _ := h.svc.Meter(h.ctx, "M-1"); got.KeyEpoch != 1 {
		t.Fatalf("epoch %d before the meter used the new key", got.KeyEpoch)
	}
	if err := m.codec.Rekey(2, next); err != nil {
		t.Fatal(err)
	}
	m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgAck, Acks: []devicelink.AckMessage{{CommandID: cmd.CommandID, Status: devicelink.AckApplied}}})
	got, _ := h.svc.Meter(h.ctx, "M-1")
	if got.KeyEpoch != 2 || h.state(id) != devicelink.StateAcked {
		t.Fatalf("epoch %d, command %s", got.KeyEpoch, h.state(id))
	}
	if h.status("M-1").KeyRotationPending || len(h.status("M-1").Bays) != 1 {
		t.Errorf("status after rotation = %+v", h.status("M-1"))
	}

	// The old epoch is accepted for the window, then refused.
	old, _ := devicelink.NewMeterCodec("M-1", 1, m.key, oldCounter+100)
	env, _, _ := old.SealMessage(poll)
	out, err := h.svc.Exchange(h.ctx, env)
	if err != nil {
		t.Fatalf("old epoch inside the window: %v", err)
	}
	if _, hdr, err := old.OpenReply(out); err != nil || hdr.Epoch != 1 {
		t.Errorf("reply to the old epoch: %v epoch %d", err, hdr.Epoch)
	}
	h.clock.Advance(time.Hour)
	env, _, _ = old.SealMessage(poll)
	if _, err := h.svc.Exchange(h.ctx, env); !errors.Is(err, devicelink.ErrEpoch) {
		t.Fatalf("old epoch after the window: %v", err)
	}
	if ev := h.status("M-1").SecurityEvents; len(ev) != 1 || ev[0].Kind != devicelink.SecurityEpoch {
		t.Errorf("security events = %+v", ev)
	}
	fresh, _ := devicelink.NewMeterCodec("M-1", 2, next, oldCounter+300)
	env, _, _ = fresh.SealMessage(poll)
	if _, err := h.svc.Exchange(h.ctx, env); err != nil {
		t.Errorf("new key: %v", err)
	}
}

func TestUnfinishedRotationCanBeRestarted(t *testing.T) {
	h := newHarness(t)
	h.meter("M-1", "12")
	id, err := h.svc.RotateKey(h.ctx, "M-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.CancelCommand(h.ctx, id, "meter replaced"); err != nil {
		t.Fatal(err)
	}
	if h.status("M-1").KeyRotationPending {
		t.Fatal("staged key kept after the rotation was cancelled")
	}
	id2, err := h.svc.RotateKey(h.ctx, "M-1")
	if err != nil || id2 == id {
		t.Fatalf("restart = %q, %v", id2, err)
	}
	if _, err := h.svc.RotateKey(h.ctx, "M-404"); !errors.Is(err, devicelink.ErrNotFound) {
		t.Errorf("unknown meter: %v", err)
	}
}
