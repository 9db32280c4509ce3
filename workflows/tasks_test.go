package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// flakySender fails every send temporarily and counts the attempts it saw,
// by channel.
type flakySender struct {
	mu       sync.Mutex
	attempts map[string]int
	err      error
}

func (s *flakySender) Send(_ context.Context, req workflows.SendRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[req.Send.Template]++
	return s.err
}

func (s *flakySender) count(template string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[template]
}

// A text that no retry could hand to the carrier is not archived unheard:
// after its last attempt the conversation moves the notice to the next
// channel, once.
func TestSendThatExhaustsItsRetriesMovesToTheNextChannel(t *testing.T) {
	rdb := redistest.Client(t, redistest.DBWorkflows)
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	var nowAt atomic.Pointer[time.Time]                  // read by the dispatcher and the worker
	now := time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC) // noon in Hong Kong
	nowAt.Store(&now)
	clock := func() time.Time { return *nowAt.Load() }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opt := asynq.RedisClientOpt{Addr: redistest.Addr(), DB: redistest.DBWorkflows}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	const maxRetry = 2
	queue := &workflows.TaskQueue{Client: client, Config: workflows.TaskConfig{Queue: "ppp", Retention: time.Hour, MaxRetry: maxRetry}, Now: clock}
	runner := &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, clock), Now: clock, Log: log}
	ctx := context.Background()
	startDispatcher(t, rdb, queue, log)
	if err := runner.Registry.PutUser(ctx, engine.User{ID: "u-1", Phone: "+85291234567", Language: "en", CardToken: "tok_a", CardLast4: "4242", CardKind: engine.CardCredit}); err != nil {
		t.Fatal(err)
	}
	sms := &flakySender{attempts: map[string]int{}, err: &workflows.SendError{Code: 20429, Message: "too many requests", Temporary: true}}
	voice := &flakySender{attempts: map[string]int{}}
	undelivered := workflows.NewUndeliveredMetric()
	h := &workflows.Handlers{Runner: runner, Senders: map[string]workflows.Sender{"sms": sms, "voice": voice}, Log: log, Metrics: undelivered}
	mux := asynq.NewServeMux()
	h.Register(mux)
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 2, Queues: map[string]int{"ppp": 1}, LogLevel: asynq.FatalLevel,
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond }})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	id, err := runner.RecordPayment(ctx, engine.PaymentInput{TxnID: "T1", MeterID: "M1", Bay: "7", CardToken: "tok_a", PaidAt: now, PaidUntil: now.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := runner.Store.Get(ctx, id)
	due := st.Timers[engine.TimerNotice].At
	nowAt.Store(&due)
	if _, err := runner.Apply(ctx, id, engine.Input{Kind: engine.InputTimer, Timer: &engine.TimerInput{Kind: engine.TimerNotice, ID: st.Timers[engine.TimerNotice].ID}}); err != nil {
		t.Fatal(err)
	}
	// Wait for the outcome (bounded), never for a duration.
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for voice.count("notice") == 0 {
		select {
		case <-deadline:
			t.Fatalf("the notice never moved on to a call: %d text attempts", sms.count("notice"))
		case <-tick.C:
		}
	}
	if n := sms.count("notice"); n != maxRetry+1 {
		t.Fatalf("%d text attempts, want %d (the first and every retry)", n, maxRetry+1)
	}
	st, _ = runner.Store.Get(ctx, id)
	if got := st.Channels[st.Esc]; got != engine.ChannelVoice {
		t.Fatalf("escalation at %q, want voice", got)
	}
	hist, _ := runner.Store.History(ctx, id)
	found := false
	for _, e := range hist {
		if strings.HasPrefix(e.Input, "send failed sms ") && strings.HasSuffix(e.Input, "code 20429 exhausted") {
			found = true
		}
	}
	if !found {
		t.Fatalf("history does not show the exhausted text: %+v", hist)
	}
	if n := testutil.ToFloat64(undelivered.WithLabelValues("sms", engine.SendExhausted)); n != 1 {
		t.Fatalf("undelivered metric %v, want 1", n)
	}
}

// startDispatcher runs an outbox dispatcher to queue until the test ends.
func startDispatcher(t *testing.T, rdb redis.UniversalClient, queue workflows.EffectQueue, log *slog.Logger) {
	t.Helper()
	d, err := workflows.NewDispatcher(rdb, queue, "test-"+t.Name(), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
