package devicelink_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
)

// newAlertHarness is a harness whose security events raise alerts into a
// recording sink.
func newAlertHarness(t *testing.T) (*harness, *devicelinktest.Alerts) {
	t.Helper()
	al := devicelinktest.NewAlerts()
	h := newHarnessWith(t, func(c *devicelink.Config) {
		c.Alerts = al
		c.SecurityBurst = 5
		c.SecurityAlertWindow = 10 * time.Minute
	})
	return h, al
}

func codes(al []devicelink.SecurityAlert) []string {
	var out []string
	for _, a := range al {
		out = append(out, a.MeterID+" "+a.Code)
	}
	return out
}

func TestUnsolicitedWakeHelloRaisesOneAlertPerWindow(t *testing.T) {
	h, al := newAlertHarness(t)
	m := h.meter("M-1", "12")
	m.hello(devicelink.ReasonWake, nil)
	got := al.Alerts()
	if len(got) != 1 || got[0].Code != "security_unsolicited_wake" || got[0].MeterID != "M-1" {
		t.Fatalf("alerts = %+v, want one security_unsolicited_wake of M-1", got)
	}
	if !got[0].At.Equal(h.clock.Now()) || !strings.Contains(got[0].Message, "M-1") ||
		strings.Contains(got[0].Message, simOf("M-1")) || strings.Contains(got[0].Message, simOf("M-1")[1:]) {
		t.Errorf("alert %+v: want the service clock, the meter id and no SIM number", got[0])
	}
	// More wake hellos in the same window are one incident.
	h.clock.Advance(time.Minute)
	m.hello(devicelink.ReasonWake, nil)
	m.hello(devicelink.ReasonWake, nil)
	if got := al.Alerts(); len(got) != 1 {
		t.Fatalf("alerts = %v, want still one", codes(got))
	}
	// A wake hello in a later window is a new incident.
	h.clock.Advance(10 * time.Minute)
	m.hello(devicelink.ReasonWake, nil)
	if got := al.Alerts(); len(got) != 2 || got[1].ID == got[0].ID {
		t.Fatalf("alerts = %+v, want a second one", got)
	}
	// An ordinary hello raises nothing.
	m.hello(devicelink.ReasonScheduled, nil)
	if got := al.Alerts(); len(got) != 2 {
		t.Fatalf("alerts = %v after a scheduled hello", codes(got))
	}
}

func TestReplayedEnvelopeRaisesAnAlert(t *testing.T) {
	h, al := newAlertHarness(t)
	m := h.meter("M-1", "12")
	env, _, _ := m.codec.SealMessage(poll)
	if _, err := h.svc.Exchange(h.ctx, env); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Exchange(h.ctx, env); !errors.Is(err, devicelink.ErrReplay) {
		t.Fatalf("replay: err = %v", err)
	}
	if got := codes(al.Alerts()); len(got) != 1 || got[0] != "M-1 security_replay" {
		t.Fatalf("alerts = %v, want one security_replay of M-1", got)
	}
}

func TestBadMACBurstRaisesOneAlert(t *testing.T) {
	h, al := newAlertHarness(t)
	m := h.meter("M-1", "12")
	other := h.meter("M-2", "12")
	forged := func(meter *testMeter) []byte {
		env, _, _ := meter.codec.SealMessage(poll)
		env[len(env)-3] ^= 0x10
		return env
	}
	refuse := func(meter *testMeter, n int) {
		t.Helper()
		for range n {
			if _, err := h.svc.Exchange(h.ctx, forged(meter)); !errors.Is(err, devicelink.ErrAuth) {
				t.Fatalf("forged envelope: err = %v", err)
			}
		}
	}
	// Four bad tags from each of two meters: line noise, no alert.
	refuse(m, 4)
	refuse(other, 4)
	if got := al.Alerts(); len(got) != 0 {
		t.Fatalf("alerts below the burst threshold: %v", codes(got))
	}
	if ev := h.status("M-1").SecurityEvents; len(ev) != 4 {
		t.Fatalf("%d security events, want every refusal recorded", len(ev))
	}
	// The fifth of M-1 within the window is a burst; a hundred more are the
	// same burst.
	refuse(m, 1)
	refuse(m, 100)
	got := al.Alerts()
	if c := codes(got); len(c) != 1 || c[0] != "M-1 security_auth_burst" {
		t.Fatalf("alerts = %v, want one security_auth_burst of M-1", c)
	}
	if !strings.Contains(got[0].Message, "5 or more") || strings.Contains(got[0].Message, simOf("M-1")[1:]) {
		t.Errorf("message %q", got[0].Message)
	}
	// The counters are bounded: they expire.
	keys, err := h.rdb.Keys(h.ctx, devicelink.KeySecurityBurst("M-1", "*", "*")).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("burst keys %v, %v", keys, err)
	}
	if ttl := h.rdb.PTTL(h.ctx, keys[0]).Val(); ttl <= 0 || ttl > 20*time.Minute {
		t.Errorf("burst counter TTL %s, want at most two windows", ttl)
	}
	// A new window starts a new count.
	h.clock.Advance(10 * time.Minute)
	refuse(m, 4)
	if got := al.Alerts(); len(got) != 1 {
		t.Fatalf("alerts = %v, want no new one below the threshold", codes(got))
	}
	refuse(m, 1)
	if got := al.Alerts(); len(got) != 2 {
		t.Fatalf("alerts = %v, want a second burst", codes(got))
	}
	// A good envelope still works.
	if _, err := m.send(poll); err != nil {
		t.Fatalf("meter locked out: %v", err)
	}
}

func TestExpiredCommandRefusalRaisesNoAlert(t *testing.T) {
	h, al := newAlertHarness(t)
	m := h.meter("M-1", "12")
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(5*time.Minute))
	cmd := m.mustSend(poll).Commands[0]
	m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgAck, Acks: []devicelink.AckMessage{
		{CommandID: cmd.CommandID, Status: devicelink.AckRejected, Bay: "12", Reason: devicelink.RejectExpired},
	}})
	if len(h.status("M-1").SecurityEvents) != 1 || len(al.Alerts()) != 0 {
		t.Fatalf("events %+v, alerts %v", h.status("M-1").SecurityEvents, codes(al.Alerts()))
	}
}
