package ivr_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"ppprenew/workflows/redistest"
)

// A key pressed at the call's menu takes six round trips to Redis: one
// pipeline reads a stored answer of the step, takes the step's lock and
// reads the call's session; the conversation's state, the driver's facts
// and the commit; the call's session saved; one pipeline stores and
// publishes the answer for duplicates.
func TestMenuKeyInACallTakesSixRoundTrips(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	trips := &redistest.RoundTrips{}
	v.rdb.AddHook(trips)
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA1", "AnsweredBy", "human"))
	trips.Reset()
	doc = v.raw(context.Background(), next(doc), callForm("CA1", "Digits", "1")) // the quote
	got := trips.Reset()
	t.Logf("round trips: %v", got)
	if !strings.Contains(doc, "Gather") {
		t.Fatalf("no quote asked: %s", doc)
	}
	if len(got) > 6 {
		t.Fatalf("%d round trips for one key, want at most 6: %v", len(got), got)
	}
}
