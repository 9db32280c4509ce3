package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// BenchmarkRunnerApply is one input through the runner: load, step, commit
// with the version check in Redis, enqueue (recorded).
func BenchmarkRunnerApply(b *testing.B) {
	rdb := redistest.Client(b, redistest.DBBench)
	set, err := engine.LoadSettings("")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	r := &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, time.Now),
		Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	if err := r.Registry.PutUser(ctx, engine.User{ID: "u", Phone: "+85291234567", Language: "en", CardToken: "tok", CardLast4: "4242", CardKind: engine.CardCredit}); err != nil {
		b.Fatal(err)
	}
	id, err := r.RecordPayment(ctx, engine.PaymentInput{TxnID: "T", MeterID: "M", Bay: "1", CardToken: "tok", PaidAt: now, PaidUntil: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		// A reply in the parked phase answers with the status: a real step
		// with a commit each time.
		if _, err := r.Apply(ctx, id, engine.Input{Kind: engine.InputReply, Reply: &engine.ReplyInput{Answer: engine.AnswerTwo, Channel: "sms"}}); err != nil {
			b.Fatal(err)
		}
	}
}
