package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"ppprenew/workflows"
	"ppprenew/workflows/redistest"
	"ppprenew/workflows/workflowstest"
)

// BenchmarkStep is the pure engine: one conversation from notice to quote.
func BenchmarkStep(b *testing.B) {
	set, err := workflows.LoadSettings("")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)
	u := workflows.User{ID: "u", Phone: "+85291234567", Language: "en", CardToken: "tok", CardLast4: "4242", CardKind: workflows.CardCredit}
	p := workflows.PaymentInput{TxnID: "T", MeterID: "M", Bay: "1", CardToken: "tok", PaidAt: now, PaidUntil: now.Add(30 * time.Minute)}
	b.ReportAllocs()
	for b.Loop() {
		st, _ := workflows.Open(set, u, p, workflows.Facts{}, now)
		tm := st.Timers[workflows.TimerNotice]
		st, _ = workflows.Step(set, st, workflows.Input{Kind: workflows.InputTimer, Timer: &workflows.TimerInput{Kind: workflows.TimerNotice, ID: tm.ID}}, tm.At)
		workflows.Step(set, st, workflows.Input{Kind: workflows.InputReply, Reply: &workflows.ReplyInput{Answer: workflows.AnswerOne, Channel: "sms"}}, tm.At)
	}
}

// BenchmarkRunnerApply is one input through the runner: load, step, commit
// with the version check in Redis, enqueue (recorded).
func BenchmarkRunnerApply(b *testing.B) {
	rdb := redistest.Client(b, redistest.DBBench)
	set, err := workflows.LoadSettings("")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	r := &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, time.Now),
		Queue: &workflowstest.Queue{}, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	if err := r.Registry.PutUser(ctx, workflows.User{ID: "u", Phone: "+85291234567", Language: "en", CardToken: "tok", CardLast4: "4242", CardKind: workflows.CardCredit}); err != nil {
		b.Fatal(err)
	}
	id, err := r.RecordPayment(ctx, workflows.PaymentInput{TxnID: "T", MeterID: "M", Bay: "1", CardToken: "tok", PaidAt: now, PaidUntil: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		// A reply in the parked phase answers with the status: a real step
		// with a commit each time.
		if _, err := r.Apply(ctx, id, workflows.Input{Kind: workflows.InputReply, Reply: &workflows.ReplyInput{Answer: workflows.AnswerTwo, Channel: "sms"}}); err != nil {
			b.Fatal(err)
		}
	}
}
