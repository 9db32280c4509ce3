package sms_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/engine"
)

// roundTrips counts the trips a client makes to Redis: one per command
// sent alone, one per pipeline.
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

var _ redis.Hook = (*roundTrips)(nil)

// An answer to an open conversation, the hot path, takes three round trips
// to Redis: one pipeline claims the message id, reads the opt-out and
// routes it to its conversation; a second loads that conversation with the
// driver's facts; one script commits state, history and the outbox. The
// driver is looked up once, through the conversation.
func TestAnswerToAnOpenConversationTakesThreeRoundTrips(t *testing.T) {
	v := newEnv(t)
	trips := &roundTrips{}
	v.rdb.AddHook(trips)
	id := v.offered(t)
	// The commit script is loaded once per server; load it before counting.
	if code, _ := v.post(t, "/twilio/sms", inbound("SM0", phone, "hello")); code != 200 {
		t.Fatalf("warm-up reply: %d", code)
	}
	trips.reset()
	if code, body := v.post(t, "/twilio/sms", inbound("SM1", phone, "2")); code != 200 || !strings.Contains(body, "<Response") {
		t.Fatalf("reply: %d %q", code, body)
	}
	got := trips.reset()
	t.Logf("round trips: %v", got)
	if len(got) > 3 {
		t.Fatalf("%d round trips for one answer, want at most 3: %v", len(got), got)
	}
	if p := v.phase(t, id); p != engine.PhaseAlertSet {
		t.Fatalf("phase %s after '2', want alert_set", p)
	}
}
