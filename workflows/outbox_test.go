package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
	"ppprenew/workflows/workflowstest"
)

func outboxLen(t *testing.T, f *fixture) int64 {
	t.Helper()
	n, err := workflows.OutboxLength(context.Background(), f.rdb)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A step's effects are in the outbox once its commit returns, before any
// dispatcher has run; dispatching hands them over once and empties it.
func TestCommitPutsTheEffectsInTheOutbox(t *testing.T) {
	f := newFixture(t)
	f.pay(t, "T1", "tok_a")
	if n := outboxLen(t, f); n != 1 {
		t.Fatalf("outbox holds %d entries after the commit, want 1", n)
	}
	if got := len(f.queue.Effects()); got != 2 {
		t.Fatalf("%d effects handed over, want the two timers", got)
	}
	if n := outboxLen(t, f); n != 0 {
		t.Fatalf("outbox holds %d entries after dispatch, want 0", n)
	}
	if n, err := f.queue.Drain(); err != nil || n != 0 {
		t.Fatalf("a second dispatch handed over %d (%v), want nothing", n, err)
	}
	if got := len(f.queue.Effects()); got != 2 {
		t.Fatalf("%d effects after a second dispatch, want still 2", got)
	}
}

// When the task queue refuses, the effects stay in the outbox and the next
// pass hands them over: nothing is lost and nothing is handed over twice.
func TestOutboxKeepsWhatTheQueueRefused(t *testing.T) {
	f := newFixture(t)
	f.queue.Err = errors.New("queue down")
	id := f.pay(t, "T1", "tok_a")
	if _, err := f.queue.Drain(); err == nil {
		t.Fatal("dispatch to a queue that is down reported no error")
	}
	if n := outboxLen(t, f); n != 1 {
		t.Fatalf("outbox holds %d entries after a failed hand-over, want 1", n)
	}
	f.queue.Err = nil
	effects := f.queue.Effects()
	if len(effects) != 2 || effects[0].ID != id+":1:timer-notice" {
		t.Fatalf("effects after the queue came back: %+v", effects)
	}
}

// Entries a dispatcher took and never acknowledged (it died) are claimed
// by another one.
func TestAnotherDispatcherClaimsADeadOnesEntries(t *testing.T) {
	f := newFixture(t)
	rdb := f.rdb
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dying := &workflowstest.Queue{Err: errors.New("replica killed mid-dispatch")}
	a, err := workflows.NewDispatcher(rdb, dying, "replica-a", log)
	if err != nil {
		t.Fatal(err)
	}
	id := f.pay(t, "T1", "tok_a")
	if _, err := a.DispatchPending(context.Background()); err == nil {
		t.Fatal("replica a's hand-over should have failed")
	}
	b, err := workflows.NewDispatcher(rdb, f.queue, "replica-b", log)
	if err != nil {
		t.Fatal(err)
	}
	b.MinIdle = 0 // the entry has been idle long enough
	if n, err := b.DispatchPending(context.Background()); err != nil || n != 1 {
		t.Fatalf("replica b handed over %d (%v), want replica a's one entry", n, err)
	}
	if n, err := f.queue.Drain(); err != nil || n != 0 {
		t.Fatalf("nothing should be left: %d (%v)", n, err)
	}
	effects := f.queue.Effects()
	if len(effects) != 2 || effects[0].ID != id+":1:timer-notice" {
		t.Fatalf("effects handed over by replica b: %+v", effects)
	}
}

// Any number of replicas may dispatch at once, and recover each other's
// entries: asynq holds every effect exactly once, under its effect id.
func TestManyDispatchersHandEachEffectToAsynqOnce(t *testing.T) {
	f := newFixture(t)
	rdb := f.rdb
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opt := asynq.RedisClientOpt{Addr: redistest.Addr(), DB: redistest.DBWorkflows}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	queue := &workflows.TaskQueue{Client: client, Config: workflows.TaskConfig{Queue: "outbox-test", Retention: time.Hour, MaxRetry: 1}, Now: func() time.Time { return f.now }}
	const payments = 60
	ctx := context.Background()
	for i := range payments {
		u := engine.User{ID: fmt.Sprintf("u-x%d", i), Phone: fmt.Sprintf("+8529300%04d", i), Language: "en", CardToken: fmt.Sprintf("tok_x%d", i), CardLast4: "4242", CardKind: engine.CardCredit}
		if err := f.runner.Registry.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for r := range 4 {
		d, err := workflows.NewDispatcher(rdb, queue, fmt.Sprintf("replica-%d", r), log)
		if err != nil {
			t.Fatal(err)
		}
		d.MinIdle = 0 // every replica also claims what the others hold
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := d.DispatchPending(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range payments {
		if _, err := f.runner.RecordPayment(ctx, engine.PaymentInput{TxnID: fmt.Sprintf("X%d", i), MeterID: "M9", Bay: fmt.Sprint(i),
			CardToken: fmt.Sprintf("tok_x%d", i), PaidAt: f.now, PaidUntil: f.now.Add(30 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if _, err := f.queue.Drain(); err != nil { // what is left, into the recording queue
		t.Fatal(err)
	}
	left := len(f.queue.Effects())
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })
	tasks, err := insp.ListScheduledTasks("outbox-test", asynq.PageSize(1000))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, task := range tasks {
		if seen[task.ID] {
			t.Fatalf("task %s is in asynq twice", task.ID)
		}
		seen[task.ID] = true
	}
	if got := len(seen) + left; got != 2*payments {
		t.Fatalf("%d effects in asynq and %d left over, want %d in all", len(seen), left, 2*payments)
	}
}

// Consumers that hold nothing are forgotten once idle long enough; one
// that still holds entries, and the dispatcher itself, are kept.
func TestIdleConsumersWithNothingPendingArePruned(t *testing.T) {
	f := newFixture(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	gone, err := workflows.NewDispatcher(f.rdb, &workflowstest.Queue{}, "replica-gone", log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gone.DispatchPending(ctx); err != nil { // registers the name, holds nothing
		t.Fatal(err)
	}
	holding, err := workflows.NewDispatcher(f.rdb, &workflowstest.Queue{Err: errors.New("down")}, "replica-holding", log)
	if err != nil {
		t.Fatal(err)
	}
	f.pay(t, "T1", "tok_a")
	if _, err := holding.DispatchPending(ctx); err == nil { // takes the entry and keeps it pending
		t.Fatal("the hand-over to a queue that is down should have failed")
	}
	self, err := workflows.NewDispatcher(f.rdb, f.queue, "replica-self", log)
	if err != nil {
		t.Fatal(err)
	}
	self.MinIdle = time.Hour // nothing is claimed here
	if _, err := self.DispatchPending(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := self.PruneConsumers(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want only the consumer that holds nothing", n, err)
	}
	left, err := f.rdb.XInfoConsumers(ctx, "ppp:outbox", "dispatch").Result()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range left {
		names[c.Name] = true
	}
	if names["replica-gone"] || !names["replica-holding"] || !names["replica-self"] {
		t.Fatalf("consumers left: %v", names)
	}
}
