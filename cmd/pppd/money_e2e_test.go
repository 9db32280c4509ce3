package main

import (
	"strings"
	"testing"
	"time"

	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// alertCodes lists the codes of the operator alerts, newest first.
func (h *harness) alertCodes() []string {
	var alerts struct {
		Alerts []workflows.Alert `json:"alerts"`
	}
	h.admin("GET", "/alerts", nil, &alerts)
	var codes []string
	for _, a := range alerts.Alerts {
		codes = append(codes, a.Code)
	}
	return codes
}

// The gateway takes the money, its answer is lost, and its records stay
// unreachable for longer than the charge task's retries: the driver is told
// the payment is being checked (not that nothing was charged), a second "1"
// charges nothing, the operator is alerted, and lookups settle it once the
// gateway can answer.
func TestUnknownChargeOutcomeIsCheckedNotRetold(t *testing.T) {
	h := newHarnessWith(t, func(s *engine.Settings) {
		s.ChargeCheck = engine.ChargeCheckSettings{First: 300 * time.Millisecond, Max: time.Second, GiveUpAfter: time.Hour}
	})
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	if s := h.simctl("PATCH", "/cards/"+card, map[string]any{
		"slow_next": map[string]any{"count": 1, "delay_ms": 7000}, "records_unavailable_next": 1_000_000,
	}, nil); s != 200 {
		t.Fatalf("card fault: %d", s)
	}
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Reply 1 to confirm")
	h.text(alice, "1", false)
	h.expect(alice, 3, "checking with the payment service")
	h.eventually("the operator to be alerted", func() bool {
		return strings.Contains(strings.Join(h.alertCodes(), ","), "charge_unresolved")
	})
	st, _ := h.conv(alice)
	if st.Phase != engine.PhaseCharging || st.ChargeCheck == nil {
		t.Fatalf("conversation %s, check %+v: want an unresolved charge", st.Phase, st.ChargeCheck)
	}
	h.text(alice, "1", false) // the driver tries again
	h.expect(alice, 4, "Please do not pay again")
	h.eventually("several lookups", func() bool {
		st, _ := h.conv(alice)
		return st.ChargeCheck != nil && st.ChargeCheck.Lookups >= 2
	})
	if ch := h.world.Gateway.Charges(); len(ch) != 1 {
		t.Fatalf("gateway recorded %d charges, want the first only: %+v", len(ch), ch)
	}
	// The gateway's records come back: the next lookup finds the charge.
	zero := 0
	if _, err := h.world.Gateway.UpdateCard(card, sim.CardPatch{RecordsUnavailableNext: &zero}); err != nil {
		t.Fatal(err)
	}
	h.expect(alice, 5, "Renewed")
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges, want 1", n)
	}
	h.eventually("the meter to apply the renewal", func() bool { return h.appliedRenewals("M1") == 1 })
	st, _ = h.conv(alice)
	if st.ChargeCheck != nil || len(st.Renewals) != 1 {
		t.Fatalf("check %+v renewals %+v", st.ChargeCheck, st.Renewals)
	}
	if codes := strings.Join(h.alertCodes(), ","); !strings.Contains(codes, "charge_resolved") {
		t.Fatalf("alerts %s, want the resolution reported", codes)
	}
}

// A card we have never seen pays at the bay: the bay is the newcomer's, so
// the first driver's pending offer ends and a late "1" charges nothing.
func TestUnregisteredPayerSupersedesPendingRenewal(t *testing.T) {
	h := newHarness(t)
	a := h.driver(alice, "en", "credit", 10000)
	var stranger sim.Card
	if s := h.simctl("POST", "/cards", map[string]any{"kind": "credit", "last4": "9999"}, &stranger); s != 201 {
		t.Fatalf("create card: %d", s)
	}
	h.meter("M1", "")
	h.tap("M1", "1", a, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Reply 1 to confirm")
	h.tap("M1", "1", stranger.Token, 20*time.Minute)
	h.expect(alice, 3, "Another payment was made at bay 1")
	h.text(alice, "1", false)
	h.expect(alice, 4, "no active parking session")
	if n := len(h.world.Gateway.Charges()); n != 0 {
		t.Fatalf("gateway recorded %d charges, want none", n)
	}
}
