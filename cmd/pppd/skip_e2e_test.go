package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// A channel the escalation passes over is named, with the reason, in the
// conversation's history in the admin API.
func TestAdminHistorySaysWhyTheCallWasSkipped(t *testing.T) {
	h := newHarnessAt(t, time.Date(2026, time.June, 15, 23, 30, 0, 0, middayHK.Location()), func(s *engine.Settings) {
		fastEscalation(s)
		s.Escalation = s.Escalation[1:] // sms, then voice
	})
	card := h.driver(alice, "en", "credit", 10000)
	h.meter("M1", "")
	h.tap("M1", "1", card, 10*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	var hist []workflows.HistoryEntry
	h.eventually("the escalation step after the SMS", func() bool {
		var st engine.State
		st, hist = h.conv(alice)
		_, armed := st.Timers[engine.TimerEscalate]
		return !armed && st.Phase == engine.PhaseOffered
	})
	var escalate *workflows.HistoryEntry
	for i := range hist {
		if hist[i].Input == "timer escalate" {
			escalate = &hist[i]
		}
	}
	if escalate == nil {
		t.Fatalf("no escalation step in the history: %+v", hist)
	}
	if escalate.From != engine.PhaseOffered || escalate.To != engine.PhaseOffered ||
		!slices.Contains(escalate.Effects, "skipped voice: quiet_hours") {
		t.Fatalf("escalation step %+v, want it to say the call was skipped for the quiet hours", *escalate)
	}
	for _, e := range hist {
		for _, eff := range e.Effects {
			if strings.HasPrefix(eff, "send voice") {
				t.Fatalf("a call was placed in the quiet hours: %+v", e)
			}
		}
	}
}
