package ivr_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// roundTrips counts a client's trips to Redis: one per command sent alone,
// one per pipeline.
type roundTrips struct {
	mu    sync.Mutex
	trips []string
}

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.add(cmd.Name())
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		r.add("pipeline(" + strings.Join(names, " ") + ")")
		return next(ctx, cmds)
	}
}

func (r *roundTrips) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trips = append(r.trips, s)
}

func (r *roundTrips) reset() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.trips
	r.trips = nil
	return out
}

// A key pressed at the call's menu takes six round trips to Redis: one
// pipeline reads a stored answer of the step, takes the step's lock and
// reads the call's session; the conversation's state, the driver's facts
// and the commit; the call's session saved; one pipeline stores and
// publishes the answer for duplicates.
func TestMenuKeyInACallTakesSixRoundTrips(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	trips := &roundTrips{}
	v.rdb.AddHook(trips)
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA1", "AnsweredBy", "human"))
	trips.reset()
	doc = v.raw(context.Background(), next(doc), callForm("CA1", "Digits", "1")) // the quote
	got := trips.reset()
	t.Logf("round trips: %v", got)
	if !strings.Contains(doc, "Gather") {
		t.Fatalf("no quote asked: %s", doc)
	}
	if len(got) > 6 {
		t.Fatalf("%d round trips for one key, want at most 6: %v", len(got), got)
	}
}
