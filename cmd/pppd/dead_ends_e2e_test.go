package main

import (
	"strings"
	"testing"
	"time"

	"ppprenew/sim"
	"ppprenew/workflows/engine"
)

// expectSome waits until some message to a phone contains want.
func (h *harness) expectSome(phone, want string) {
	h.t.Helper()
	h.eventually("a message containing "+want, func() bool {
		for _, m := range h.inbox(phone) {
			if strings.Contains(m.Body, want) {
				return true
			}
		}
		return false
	})
}

func TestVoiceHangupAtQuoteTextsTheQuote(t *testing.T) {
	h := newHarness(t)
	card := h.driverWith(alice, "en", "credit", 10000, map[string]any{"channel": "voice"})
	h.meter("M1", "")
	// Press 1 at the menu, hear the quote, hang up.
	h.script(alice, sim.VoiceScript{Answer: "human", Steps: []sim.VoiceStep{{Digits: "1"}, {Hangup: true}}})
	h.tap("M1", "1", card, 8*time.Second)
	if got := heard(h.ended(alice, 1)); !strings.Contains(got, "Press 1 to confirm") {
		t.Fatalf("the call did not speak the quote:\n%s", got)
	}
	h.expect(alice, 1, "Reply 1 to confirm")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Renewed")
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges", n)
	}
}

func TestInboundCallWhileParkedExtends(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 10*time.Minute) // the notice is minutes away
	h.phase(alice, "parked")
	mustHear(t, h.inboundCall(alice, false, "1", "1"), "is paid until", "Press 1 to extend", "Press 1 to confirm", "is renewed until")
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges", n)
	}
}

func TestInboundCallAfterRemindMeHearsState(t *testing.T) {
	// A long grace period, so the reminder is minutes away during the call.
	h := newHarnessWith(t, func(s *engine.Settings) { s.GracePeriod = 10 * time.Minute })
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "2", false)
	h.expect(alice, 2, "We will text you")
	h.phase(alice, "alert_set")
	mustHear(t, h.inboundCall(alice, false, "1", "1"), "Bay 1 at Pier Road is paid until", "Press 1 to extend", "Press 1 to confirm", "is renewed until")
}

func TestStopThenStartFindsTheSessionAgain(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "STOP", false)
	h.phase(alice, "opted_out")
	h.text(alice, "START", false)
	h.expectSome(alice, "receive parking renewal texts again")
	h.text(alice, "1", false)
	h.expectSome(alice, "Reply 1 to confirm")
	for _, m := range h.inbox(alice) {
		if strings.Contains(m.Body, "no active parking session") {
			t.Fatalf("told %q while the bay is paid", m.Body)
		}
	}
}

func TestInboundCallAfterRenewalExtendsAgain(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.renew(alice, 1)
	h.phase(alice, "parked")
	mustHear(t, h.inboundCall(alice, false, "1", "1"), "is paid until", "Press 1 to extend", "Press 1 to confirm", "is renewed until")
	if n := len(h.succeededCharges()); n != 2 {
		t.Fatalf("%d charges, want 2", n)
	}
}
