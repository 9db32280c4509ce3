package workflows_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
	"ppprenew/workflows/workflowstest"
)

// redisBytes sums MEMORY USAGE over the keys of the database whose names
// start with one of prefixes.
func redisBytes(b *testing.B, rdb *redis.Client, prefixes ...string) int64 {
	b.Helper()
	ctx := context.Background()
	var total int64
	iter := rdb.Scan(ctx, 0, "ppp:*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				n, err := rdb.MemoryUsage(ctx, k, 0).Result()
				if err != nil {
					b.Fatal(err)
				}
				total += n
				break
			}
		}
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	return total
}

// BenchmarkRedisBytesPerConversation measures what Redis holds for a
// conversation, summing MEMORY USAGE over its keys and its share of the
// indexes: while it is active (the notice sent, the driver asked to be
// reminded: three steps), once it has ended (kept for retention.finished),
// and for one conversation after 1,000 and after 20,000 steps (the history
// keeps the first entry and the newest, so the second is no larger). The
// outbox is dispatched, as the server does, before each measure. It is one
// fixed run whatever b.N.
func BenchmarkRedisBytesPerConversation(b *testing.B) {
	rdb := redistest.Client(b, redistest.DBBench)
	set, err := engine.LoadSettings("")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r := &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, clock),
		Now: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	queue := workflowstest.NewQueue(rdb)
	ctx := context.Background()
	conversation := []string{"ppp:conv:", "ppp:phone:", "ppp:bay:", "ppp:convs", "ppp:outbox"}
	const drivers = 200
	var active, finished, after1k, after20k int64
	for range b.N {
		b.StopTimer()
		// Take empties the database again, only on the suite's own server.
		if err := redistest.Take(ctx, rdb); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ids := make([]string, drivers)
		for i := range drivers {
			u := engine.User{ID: fmt.Sprintf("u-%d", i), Phone: fmt.Sprintf("+8529100%04d", i), Language: "en",
				CardToken: fmt.Sprintf("tok_%d", i), CardLast4: "4242", CardKind: engine.CardCredit, Channels: []string{engine.ChannelSMS}}
			if err := r.Registry.PutUser(ctx, u); err != nil {
				b.Fatal(err)
			}
			id, err := r.RecordPayment(ctx, engine.PaymentInput{TxnID: fmt.Sprintf("T%d", i), MeterID: "MTR-0001", Bay: fmt.Sprint(i),
				CardToken: u.CardToken, PaidAt: now, PaidUntil: now.Add(40 * time.Minute), Location: "Pier 7"})
			if err != nil {
				b.Fatal(err)
			}
			ids[i] = id
		}
		now = now.Add(30 * time.Minute) // every notice is due
		for i, id := range ids {
			st, err := r.Store.Get(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			tm := st.Timers[engine.TimerNotice]
			if _, err := r.Apply(ctx, id, engine.Input{Kind: engine.InputTimer, Timer: &engine.TimerInput{Kind: engine.TimerNotice, ID: tm.ID}}); err != nil {
				b.Fatal(err)
			}
			if _, err := r.Reply(ctx, fmt.Sprintf("+8529100%04d", i), engine.AnswerTwo, "sms"); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := queue.Drain(); err != nil {
			b.Fatal(err)
		}
		active = redisBytes(b, rdb, conversation...) / drivers
		for i := range drivers {
			if err := r.OptOut(ctx, fmt.Sprintf("+8529100%04d", i)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := queue.Drain(); err != nil {
			b.Fatal(err)
		}
		finished = redisBytes(b, rdb, conversation...) / drivers

		// One conversation stepped again and again: a reply in the parked
		// phase answers with the status, a real step each time.
		u := engine.User{ID: "u-long", Phone: "+85291999999", Language: "en", CardToken: "tok_long", CardLast4: "4242", CardKind: engine.CardCredit}
		if err := r.Registry.PutUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		id, err := r.RecordPayment(ctx, engine.PaymentInput{TxnID: "TL", MeterID: "MTR-0002", Bay: "1", CardToken: u.CardToken, PaidAt: now, PaidUntil: now.Add(3 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		one := []string{"ppp:conv:" + id}
		for n := 1; n <= 20000; n++ {
			if _, err := r.Apply(ctx, id, engine.Input{Kind: engine.InputReply, Reply: &engine.ReplyInput{Answer: engine.AnswerTwo, Channel: "sms"}}); err != nil {
				b.Fatal(err)
			}
			if n%500 == 0 {
				if _, err := queue.Drain(); err != nil {
					b.Fatal(err)
				}
			}
			if n == 1000 {
				after1k = redisBytes(b, rdb, one...)
			}
		}
		after20k = redisBytes(b, rdb, one...)
	}
	b.ReportMetric(float64(active), "active_B/conv")
	b.ReportMetric(float64(finished), "finished_B/conv")
	b.ReportMetric(float64(after1k), "after_1k_steps_B")
	b.ReportMetric(float64(after20k), "after_20k_steps_B")
}
