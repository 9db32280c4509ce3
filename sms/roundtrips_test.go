package sms_test

import (
	"strings"
	"testing"

	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// An answer to an open conversation, the hot path, takes three round trips
// to Redis: one pipeline claims the message id, reads the opt-out and
// routes it to its conversation; a second loads that conversation with the
// driver's facts; one script commits state, history and the outbox. The
// driver is looked up once, through the conversation.
func TestAnswerToAnOpenConversationTakesThreeRoundTrips(t *testing.T) {
	v := newEnv(t)
	trips := &redistest.RoundTrips{}
	v.rdb.AddHook(trips)
	id := v.offered(t)
	// The commit script is loaded once per server; load it before counting.
	if code, _ := v.post(t, "/twilio/sms", inbound("SM0", phone, "hello")); code != 200 {
		t.Fatalf("warm-up reply: %d", code)
	}
	trips.Reset()
	if code, body := v.post(t, "/twilio/sms", inbound("SM1", phone, "2")); code != 200 || !strings.Contains(body, "<Response") {
		t.Fatalf("reply: %d %q", code, body)
	}
	got := trips.Reset()
	t.Logf("round trips: %v", got)
	if len(got) > 3 {
		t.Fatalf("%d round trips for one answer, want at most 3: %v", len(got), got)
	}
	if p := v.phase(t, id); p != engine.PhaseAlertSet {
		t.Fatalf("phase %s after '2', want alert_set", p)
	}
}
