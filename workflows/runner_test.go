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
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
	"ppprenew/workflows/workflowstest"
)

type fixture struct {
	runner *workflows.Runner
	queue  *workflowstest.Queue
	rdb    *redis.Client
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rdb := redistest.Client(t, redistest.DBWorkflows)
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{queue: workflowstest.NewQueue(rdb), rdb: rdb, now: time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)}
	f.runner = &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, func() time.Time { return f.now }),
		Now: func() time.Time { return f.now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	for _, u := range []engine.User{
		{ID: "u-1", Phone: "+85291234567", Language: "en", CardToken: "tok_a", CardLast4: "4242", CardKind: engine.CardCredit},
		{ID: "u-2", Phone: "+85291234568", Language: "zh-HK", CardToken: "tok_b", CardLast4: "1111", CardKind: engine.CardCredit},
	} {
		if err := f.runner.Registry.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) pay(t *testing.T, txn, card string) string {
	t.Helper()
	id, err := f.runner.RecordPayment(context.Background(), engine.PaymentInput{
		TxnID: txn, MeterID: "M1", Bay: "7", CardToken: card, PaidAt: f.now, PaidUntil: f.now.Add(30 * time.Minute), Location: "Pier",
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) fire(t *testing.T, id string, kind engine.TimerKind) {
	t.Helper()
	st, err := f.runner.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	tm := st.Timers[kind]
	f.now = tm.At
	if _, err := f.runner.Apply(context.Background(), id, engine.Input{Kind: engine.InputTimer, Timer: &engine.TimerInput{Kind: kind, ID: tm.ID}}); err != nil {
		t.Fatal(err)
	}
}

func TestRecordPaymentIsIdempotentAndIgnoresUnregisteredCards(t *testing.T) {
	f := newFixture(t)
	id := f.pay(t, "T1", "tok_a")
	if again := f.pay(t, "T1", "tok_a"); again != id {
		t.Fatalf("second upload opened %q, want %q", again, id)
	}
	if other, err := f.runner.RecordPayment(context.Background(), engine.PaymentInput{
		TxnID: "T9", MeterID: "M1", Bay: "8", CardToken: "tok_unknown", PaidAt: f.now, PaidUntil: f.now.Add(time.Hour),
	}); err != nil || other != "" {
		t.Fatalf("unregistered card opened %q (%v)", other, err)
	}
	h, err := f.runner.Store.History(context.Background(), id)
	if err != nil || len(h) != 1 {
		t.Fatalf("history %v %v, want exactly one entry", h, err)
	}
	if got := len(f.queue.Effects()); got != 2 {
		t.Fatalf("%d effects enqueued, want the two timers once", got)
	}
}

func TestNewDriverSupersedesPendingRenewal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.pay(t, "T1", "tok_a")
	f.fire(t, first, engine.TimerNotice)
	if _, err := f.runner.Reply(ctx, "+85291234567", engine.AnswerOne, "sms"); err != nil {
		t.Fatal(err)
	}
	second := f.pay(t, "T2", "tok_b")
	st, err := f.runner.Store.Get(ctx, first)
	if err != nil || st.Phase != engine.PhaseSuperseded {
		t.Fatalf("first conversation %s %v, want superseded", st.Phase, err)
	}
	if at, _ := f.runner.Store.AtBay(ctx, "M1", "7"); at != second {
		t.Fatalf("bay points at %q, want %q", at, second)
	}
	if _, err := f.runner.Reply(ctx, "+85291234567", engine.AnswerOne, "sms"); !errors.Is(err, workflows.ErrNoSession) {
		t.Fatalf("late reply: %v, want ErrNoSession", err)
	}
	sends := f.queue.Sends()
	if sends[len(sends)-1] != "superseded" {
		t.Fatalf("sends %v, want the first driver told", sends)
	}
}

func TestUnregisteredPayerSupersedesPendingRenewal(t *testing.T) {
	// The next payer at the bay may hold a card we have never seen: the
	// bay is theirs all the same, and the first driver cannot renew it.
	f := newFixture(t)
	ctx := context.Background()
	first := f.pay(t, "T1", "tok_a")
	f.fire(t, first, engine.TimerNotice)
	f.now = f.now.Add(time.Minute)
	if id := f.pay(t, "T2", "tok_stranger"); id != "" {
		t.Fatalf("unregistered card opened %q", id)
	}
	st, err := f.runner.Store.Get(ctx, first)
	if err != nil || st.Phase != engine.PhaseSuperseded {
		t.Fatalf("first conversation %s %v, want superseded", st.Phase, err)
	}
	if _, err := f.runner.Reply(ctx, "+85291234567", engine.AnswerOne, "sms"); !errors.Is(err, workflows.ErrNoSession) {
		t.Fatalf("reply after the bay was paid by another card: %v, want ErrNoSession", err)
	}
	sends := f.queue.Sends()
	if sends[len(sends)-1] != "superseded" {
		t.Fatalf("sends %v, want the first driver told", sends)
	}
}

func TestLateUploadOfAnEarlierPaymentDoesNotSupersede(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	earlier := f.now.Add(-20 * time.Minute)
	first := f.pay(t, "T5", "tok_a")
	if _, err := f.runner.RecordPayment(ctx, engine.PaymentInput{TxnID: "T4", MeterID: "M1", Bay: "7", CardToken: "tok_stranger", PaidAt: earlier, PaidUntil: earlier.Add(15 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if st, err := f.runner.Store.Get(ctx, first); err != nil || st.Phase.Terminal() {
		t.Fatalf("conversation %s %v after a late upload of an earlier payment, want it still open", st.Phase, err)
	}
}

func TestSameCardPayingAgainExtendsTheConversation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.pay(t, "T1", "tok_a")
	f.now = f.now.Add(10 * time.Minute)
	if got, err := f.runner.RecordPayment(ctx, engine.PaymentInput{TxnID: "T2", MeterID: "M1", Bay: "7", CardToken: "tok_a", PaidAt: f.now, PaidUntil: f.now.Add(time.Hour)}); err != nil || got != first {
		t.Fatalf("top-up went to %q (%v), want %q", got, err, first)
	}
	st, _ := f.runner.Store.Get(ctx, first)
	if !st.PaidUntil.Equal(f.now.Add(time.Hour)) || len(st.Payments) != 2 {
		t.Fatalf("paid until %s payments %v", st.PaidUntil, st.Payments)
	}
}

func TestConcurrentRepliesStepOnceEach(t *testing.T) {
	// Two answers racing on one conversation: optimistic concurrency makes
	// them apply one after the other, never both from the same version.
	f := newFixture(t)
	ctx := context.Background()
	id := f.pay(t, "T1", "tok_a")
	f.fire(t, id, engine.TimerNotice)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.runner.Reply(ctx, "+85291234567", engine.AnswerOne, "sms"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, _ := f.runner.Store.Get(ctx, id)
	if st.Phase != engine.PhaseCharging || st.Version != 4 {
		t.Fatalf("phase %s v%d, want charging v4 (quote, then confirm)", st.Phase, st.Version)
	}
	charges := 0
	for _, e := range f.queue.Effects() {
		if e.Charge != nil {
			charges++
		}
	}
	if charges != 1 {
		t.Fatalf("%d charges, want 1", charges)
	}
}

func TestStoreRejectsStaleVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.pay(t, "T1", "tok_a")
	st, _ := f.runner.Store.Get(ctx, id)
	st.Version++
	if err := f.runner.Store.Save(ctx, st, st.Version-1, workflows.HistoryEntry{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.runner.Store.Save(ctx, st, st.Version-1, workflows.HistoryEntry{}, nil); !errors.Is(err, workflows.ErrConflict) {
		t.Fatalf("saving from a stale version: %v, want ErrConflict", err)
	}
}

func TestTaskQueueDuplicateEnqueueCountsAsDone(t *testing.T) {
	rdb := redistest.Client(t, redistest.DBWorkflows)
	_ = rdb
	cli := asynq.NewClient(asynq.RedisClientOpt{Addr: redistest.Addr(), DB: redistest.DBWorkflows})
	defer cli.Close()
	q := &workflows.TaskQueue{Client: cli, Config: workflows.DefaultTaskConfig()}
	e := engine.Effect{ID: "c-1:3:timer-notice", Kind: engine.EffectArmTimer, Timer: &engine.TimerEffect{Kind: engine.TimerNotice, At: time.Now().Add(time.Hour)}}
	for range 3 {
		if err := q.Enqueue(context.Background(), "c-1", []engine.Effect{e}); err != nil {
			t.Fatal(err)
		}
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: redistest.Addr(), DB: redistest.DBWorkflows})
	defer insp.Close()
	tasks, err := insp.ListScheduledTasks("ppp")
	if err != nil || len(tasks) != 1 || tasks[0].ID != e.ID {
		t.Fatalf("scheduled %v (%v), want exactly the one task", tasks, err)
	}
}

func TestAnswerRacingTheEscalationStepHasOneOutcome(t *testing.T) {
	// A reply and the escalation timer arriving at the same moment: whichever
	// commits first, the other is applied to the new state, and the driver
	// ends with exactly one quote.
	f := newFixture(t)
	ctx := context.Background()
	for i := range 10 {
		txn := fmt.Sprintf("R%d", i)
		id, err := f.runner.RecordPayment(ctx, engine.PaymentInput{TxnID: txn, MeterID: "M" + txn, Bay: "1", CardToken: "tok_a", PaidAt: f.now, PaidUntil: f.now.Add(30 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		f.fire(t, id, engine.TimerNotice)
		st, _ := f.runner.Store.Get(ctx, id)
		esc, ok := st.Timers[engine.TimerEscalate]
		if !ok {
			t.Fatalf("no escalation armed after the notice: %+v", st.Timers)
		}
		before := len(f.queue.Effects())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := f.runner.Apply(ctx, id, engine.Input{Kind: engine.InputReply, Reply: &engine.ReplyInput{Answer: engine.AnswerOne, Channel: "sms"}}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := f.runner.Apply(ctx, id, engine.Input{Kind: engine.InputTimer, Timer: &engine.TimerInput{Kind: engine.TimerEscalate, ID: esc.ID}}); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		st, _ = f.runner.Store.Get(ctx, id)
		quotes := 0
		for _, e := range f.queue.Effects()[before:] {
			if e.Send != nil && e.Send.Template == "quote" {
				quotes++
			}
		}
		if st.Phase != engine.PhaseQuoted || quotes != 1 {
			t.Fatalf("round %d: phase %s with %d quotes, want quoted with exactly one", i, st.Phase, quotes)
		}
		if _, armed := st.Timers[engine.TimerEscalate]; armed {
			t.Fatalf("round %d: the escalation is still armed after the answer", i)
		}
	}
}
