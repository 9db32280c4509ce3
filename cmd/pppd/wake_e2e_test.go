package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"ppprenew/devicelink"
	"ppprenew/sim"
	"ppprenew/workflows"
)

// meterEvents is the simulated meter's event log as text.
func (h *harness) meterEvents(id string) string {
	s, _ := h.world.Fleet.Get(id)
	var b []string
	for _, e := range s.Events {
		b = append(b, e.What)
	}
	return strings.Join(b, "\n")
}

func (h *harness) meterStatus(id string) devicelink.MeterStatus {
	var st devicelink.MeterStatus
	h.admin("GET", "/meters/"+id, nil, &st)
	return st
}

func TestSleepingMeterIsWokenByACallAndRenewed(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "") // asleep: it connects only to upload, and when called
	h.tap("M1", "1", card, 8*time.Second)
	before := h.bayPaidUntil("M1", "1")
	h.renew(alice, 1)
	if got := h.bayPaidUntil("M1", "1"); !got.Equal(before.Add(30 * time.Minute)) {
		t.Fatalf("meter paid until %s, want %s", got, before.Add(30*time.Minute))
	}
	// The carrier placed the wake call from the platform's number; the meter
	// checked the caller ID, refused it, connected back and acked.
	var calls []sim.Call
	h.simctl("GET", "/phones/"+url.PathEscape(simNumber("M1"))+"/calls", nil, &calls)
	if len(calls) == 0 || calls[0].From != h.app.cfg.WakeCallerID || calls[0].Status != "busy" {
		t.Fatalf("wake calls %+v, want one from %s refused (busy)", calls, h.app.cfg.WakeCallerID)
	}
	ev := h.meterEvents("M1")
	for _, want := range []string{"wake call from", "hello (wake)", "ack sent"} {
		if !strings.Contains(ev, want) {
			t.Fatalf("meter events lack %q:\n%s", want, ev)
		}
	}
	var st devicelink.MeterStatus
	h.eventually("the wake attempt's outcome", func() bool {
		st = h.meterStatus("M1")
		return len(st.WakeAttempts) > 0 && st.WakeAttempts[0].Status == "busy"
	})
}

func TestSpoofedCallerDoesNotWakeTheMeter(t *testing.T) {
	h := newHarness(t)
	h.meter("M1", "")
	for _, from := range []string{"+85299999999", "anonymous"} {
		var res struct {
			Outcome string `json:"outcome"`
		}
		if s := h.simctl("POST", "/ring", map[string]string{"to": simNumber("M1"), "from": from}, &res); s != 200 {
			t.Fatalf("ring: %d", s)
		}
		if res.Outcome != "busy" {
			t.Fatalf("call from %s: %s", from, res.Outcome)
		}
	}
	ev := h.meterEvents("M1")
	if !strings.Contains(ev, "not on the allow-list) refused") || !strings.Contains(ev, "withheld caller id refused") {
		t.Fatalf("meter events:\n%s", ev)
	}
	if strings.Contains(ev, "hello (wake)") {
		t.Fatalf("a spoofed call woke the meter:\n%s", ev)
	}
}

func TestUnreachableMeterDriverToldAndOperatorAlerted(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	if s := h.simctl("POST", "/meters/M1/faults", map[string]any{"radio_unreachable": true}, nil); s != 200 {
		t.Fatalf("fault: %d", s)
	}
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Reply 1 to confirm")
	h.text(alice, "1", false)
	h.expect(alice, 3, "enforcement uses our record")
	var alerts struct {
		Alerts []workflows.Alert `json:"alerts"`
	}
	h.eventually("an operator alert", func() bool {
		h.admin("GET", "/alerts", nil, &alerts)
		return len(alerts.Alerts) > 0
	})
	if alerts.Alerts[0].Code != "meter_unreachable" {
		t.Fatalf("alert %+v", alerts.Alerts[0])
	}
	st, _ := h.conv(alice)
	if len(st.Renewals) != 1 || st.PaidUntil.Sub(st.StayStart) < 30*time.Minute {
		t.Fatalf("the central record lost the renewal: %+v", st.Renewals)
	}
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges", n)
	}
}
