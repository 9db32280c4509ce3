package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/sim"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// benchApp is the whole service started as the end-to-end tests start it
// (the simulated world in this process, the server on a loopback
// listener), with a Redis client of the benchmark's own on its database.
type benchApp struct {
	*harness
	rdb *redis.Client
}

// benchSettings are the shipped settings with a 5 s lead time, so a tap of
// 8 s brings the notice 3 s later; the grace period stays the shipped 10 min,
// longer than any benchmark, so no conversation ends while it is measured.
func benchSettings(tb testing.TB) *engine.Settings {
	tb.Helper()
	y := string(engine.DefaultSettingsYAML())
	for old, repl := range map[string]string{
		"lead_time: 10m":                       "lead_time: 5s",
		"lead_time_range: {min: 5m, max: 30m}": "lead_time_range: {min: 1s, max: 30m}",
	} {
		if !strings.Contains(y, old) {
			tb.Fatalf("bench settings: %q not found in the shipped file", old)
		}
		y = strings.Replace(y, old, repl, 1)
	}
	s, err := engine.ParseSettings([]byte(y))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// meterPoll is the simulated meters' loop: a payment reaches the server
// within it, and each poll is about a dozen Redis commands of the device link
// while replies are measured, so it is slower than the harness's 100 ms.
const meterPoll = time.Second

// startBenchApp starts the world and the server on Redis database db
// (flushed first) and stops both when the benchmark ends.
func startBenchApp(tb testing.TB, db int) *benchApp {
	tb.Helper()
	h := startHarness(tb, db, middayHK, benchSettings(tb), meterPoll)
	rdb := redis.NewClient(redistest.Options(db))
	tb.Cleanup(func() { _ = rdb.Close() })
	return &benchApp{harness: h, rdb: rdb}
}

// parkedDrivers registers n drivers with credit cards, each parked at a bay
// of its own (meters of 16 bays) for 8 s, and returns their phones.
func (a *benchApp) parkedDrivers(n int) []string {
	a.t.Helper()
	const baysPerMeter = 16
	bays := make([]string, baysPerMeter)
	for i := range bays {
		bays[i] = fmt.Sprint(i + 1)
	}
	for m := range (n + baysPerMeter - 1) / baysPerMeter {
		id := fmt.Sprintf("RB%d", m)
		if s := a.simctl("POST", "/meters", map[string]any{"id": id, "sim_number": simNumber(id), "zone": "", "location": "Pier Road", "bays": bays}, nil); s != 201 {
			a.t.Fatalf("add meter %s: %d", id, s)
		}
	}
	phones := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("+8529100%04d", i)
		var card sim.Card
		if s := a.simctl("POST", "/cards", map[string]any{"kind": "credit", "last4": "4242", "balance_minor": 100000}, &card); s != 201 {
			a.t.Fatalf("create card: %d", s)
		}
		user := map[string]any{"phone": phones[i], "language": "en", "card_token": card.Token, "card_last4": "4242", "card_kind": "credit"}
		if s := a.admin("POST", "/users", user, nil); s != 201 {
			a.t.Fatalf("register user %d: %d", i, s)
		}
		meter, bay := fmt.Sprintf("RB%d", i/baysPerMeter), bays[i%baysPerMeter]
		if s := a.simctl("POST", "/meters/"+meter+"/bays/"+bay+"/tap", map[string]any{"card_token": card.Token, "seconds": 8, "amount_minor": 1000}, nil); s != 201 {
			a.t.Fatalf("tap %s bay %s: %d", meter, bay, s)
		}
	}
	return phones
}

// openConversation is the one open conversation of a phone, or an empty
// state when there is none yet.
func (a *benchApp) openConversation(phone string) engine.State {
	a.t.Helper()
	ctx := context.Background()
	ids, err := a.app.runner.Store.OpenForPhone(ctx, phone)
	if err != nil {
		a.t.Fatal(err)
	}
	if len(ids) == 0 {
		return engine.State{}
	}
	st, err := a.app.runner.Store.Get(ctx, ids[0])
	if err != nil {
		a.t.Fatal(err)
	}
	return st
}

// waitPhase waits until every phone's open conversation is in phase. The
// wait is bounded; it asserts an outcome, never a duration.
func (a *benchApp) waitPhase(phones []string, phase engine.Phase) {
	a.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for _, p := range phones {
		for {
			st := a.openConversation(p)
			if st.Phase == phase {
				break
			}
			if time.Now().After(deadline) {
				a.t.Fatalf("gave up waiting for %s's conversation to be %s (it is %q)", engine.MaskPhone(p), phase, st.Phase)
			}
			<-tick.C
		}
	}
}

// versions sums the versions of the phones' open conversations: each
// committed step adds one.
func (a *benchApp) versions(phones []string) int64 {
	a.t.Helper()
	var sum int64
	for _, p := range phones {
		sum += a.openConversation(p).Version
	}
	return sum
}
