package meter_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
	"ppprenew/sim/meter"
	"ppprenew/workflows/redistest"
)

// propWorld runs the device link and two sleeping meters on one manual
// clock: the service's timers move only by Sweep and the meters only by
// Fleet.Tick, and a fake carrier rings the meters synchronously, so a seed
// fixes the whole run.
type propWorld struct {
	t     *testing.T
	ctx   context.Context
	rng   *rand.Rand
	clock *devicelinktest.Clock
	svc   *devicelink.Service
	sink  *devicelinktest.Sink
	fleet *meter.Fleet
	cmds  []devicelink.RenewCommand
	log   []string
}

var propMeters = []struct{ id, sim string }{{"PM-1", "+85261230001"}, {"PM-2", "+85261230002"}}

func newPropWorld(t *testing.T, seed uint64) *propWorld {
	t.Helper()
	w := &propWorld{
		t: t, ctx: context.Background(), rng: rand.New(rand.NewPCG(seed, 7)),
		clock: devicelinktest.NewClock(time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)), sink: devicelinktest.NewSink(),
	}
	calls := 0
	waker := &devicelinktest.Waker{OnWake: func(ctx context.Context, req devicelink.WakeRequest) (devicelink.WakeResult, error) {
		calls++
		sid := fmt.Sprintf("CA%032d", calls)
		out, ok := w.fleet.Ring(ctx, req.SIMNumber, platformCaller)
		if !ok {
			out = "failed"
		}
		if err := w.svc.CallStatus(ctx, req.AttemptID, sid, out); err != nil {
			t.Errorf("CallStatus: %v", err)
		}
		return devicelink.WakeResult{CallSID: sid, Status: "queued"}, nil
	}}
	jitter := rand.New(rand.NewPCG(seed, 11))
	cfg := devicelink.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Waker, cfg.Random = waker, jitter.Float64
	svc, err := devicelink.NewService(redistest.Client(t, redistest.DBSim), cfg, bytes.Repeat([]byte{9}, 32), w.sink, w.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	w.svc = svc
	e := echo.New()
	svc.Register(e)
	svc.RegisterAdmin(e.Group("/admin/v1"))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	w.fleet = meter.NewFleet(meter.Config{
		ServerURL: srv.URL, AdminURL: srv.URL + "/admin/v1", PollInterval: noPolling, Clock: w.clock.Now,
		PlatformCallerID: platformCaller, ConnectBackDelay: 3 * time.Second, IdleTimeout: 5 * time.Second,
	})
	t.Cleanup(w.fleet.Close)
	for _, m := range propMeters {
		if _, err := w.fleet.Add(w.ctx, meter.Spec{ID: m.id, SIMNumber: m.sim, Bays: []string{"1", "2"}}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// randomFaults is one random fault schedule entry.
func (w *propWorld) randomFaults() meter.Faults {
	points := []string{meter.PowerLossBeforeJournal, meter.PowerLossAfterJournal, meter.PowerLossAfterExecute, meter.PowerLossAfterAck}
	switch w.rng.IntN(11) {
	case 0, 1:
		return meter.Faults{PowerLoss: points[w.rng.IntN(len(points))]}
	case 2:
		return meter.Faults{DropSends: 1 + w.rng.IntN(2)}
	case 3:
		return meter.Faults{DropReplies: 1 + w.rng.IntN(2)}
	case 4:
		return meter.Faults{DuplicateSends: 1 + w.rng.IntN(3)}
	case 5:
		return meter.Faults{ReorderSends: 1}
	case 6:
		return meter.Faults{ReplayOld: 1 + w.rng.IntN(2)}
	case 7:
		return meter.Faults{ClockSkewSeconds: []int{-600, 600}[w.rng.IntN(2)]}
	case 8:
		return meter.Faults{RadioUnreachable: true}
	case 9:
		return meter.Faults{ConnectBackFails: 1 + w.rng.IntN(2)}
	}
	return meter.Faults{CorruptReplies: 1, LoseAcks: w.rng.IntN(2) == 0}
}

func (w *propWorld) step(i int) {
	switch r := w.rng.IntN(20); {
	case r < 5:
		m := propMeters[w.rng.IntN(len(propMeters))]
		c := devicelink.RenewCommand{
			CommandID: fmt.Sprintf("c-%d", i), MeterID: m.id, Bay: []string{"1", "2"}[w.rng.IntN(2)], TxnID: fmt.Sprintf("pay-%d", i),
			PaidUntil: w.clock.Now().Add(time.Duration(5+w.rng.IntN(175)) * time.Minute).Truncate(time.Second),
		}
		if err := w.svc.EnqueueRenewal(w.ctx, c); err != nil {
			w.t.Fatalf("EnqueueRenewal: %v", err)
		}
		w.cmds = append(w.cmds, c)
		w.log = append(w.log, fmt.Sprintf("enqueue %s %s/%s", c.CommandID, c.MeterID, c.Bay))
	case r < 9:
		id := propMeters[w.rng.IntN(len(propMeters))].id
		f := w.randomFaults()
		m, _ := w.fleet.Meter(id)
		m.SetFaults(f)
		w.log = append(w.log, fmt.Sprintf("faults %s %+v", id, f))
	case r < 17:
		d := []time.Duration{time.Second, 3 * time.Second, 6 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute, 20 * time.Minute}[w.rng.IntN(7)]
		w.clock.Advance(d)
		w.sweep()
		w.fleet.Tick(w.ctx)
		w.log = append(w.log, fmt.Sprintf("advance %s", d))
	case r < 19:
		w.fleet.Tick(w.ctx)
		w.log = append(w.log, "tick")
	default:
		w.sweep()
		w.log = append(w.log, "sweep")
	}
}

func (w *propWorld) sweep() {
	if _, err := w.svc.Sweep(w.ctx); err != nil {
		w.t.Fatalf("Sweep: %v", err)
	}
}

// records returns every command of every meter.
func (w *propWorld) records() []devicelink.CommandRecord {
	var out []devicelink.CommandRecord
	for _, m := range propMeters {
		cmds, err := w.svc.Commands(w.ctx, m.id)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, cmds...)
	}
	return out
}

// checkNextAttempt: every command is terminal or has a next attempt time.
func (w *propWorld) checkNextAttempt(when string) {
	for _, c := range w.records() {
		if c.State.Terminal() {
			continue
		}
		if !c.State.Open() || c.NextAttemptAt.IsZero() {
			w.t.Fatalf("%s: command %s is %s with no next attempt (next %s)\nrun: %v", when, c.CommandID, c.State, c.NextAttemptAt, w.log)
		}
	}
}

// settle lifts every fault and runs time on until every command is final.
func (w *propWorld) settle() {
	for _, m := range propMeters {
		mm, _ := w.fleet.Meter(m.id)
		mm.SetFaults(meter.Faults{})
	}
	for range 400 {
		next := time.Time{}
		done := true
		for _, c := range w.records() {
			if c.State.Terminal() {
				continue
			}
			done = false
			if next.IsZero() || c.NextAttemptAt.Before(next) {
				next = c.NextAttemptAt
			}
		}
		if done {
			return
		}
		now := w.clock.Now()
		switch {
		case next.IsZero() || next.Before(now.Add(time.Second)):
			w.clock.Advance(time.Second)
		case next.After(now.Add(10 * time.Minute)):
			w.clock.Advance(10 * time.Minute) // check-ins and idle meters run meanwhile
		default:
			w.clock.Set(next)
		}
		w.sweep()
		w.fleet.Tick(w.ctx)
		w.checkNextAttempt("settling")
	}
	w.t.Fatalf("commands never settled: %+v\nrun: %v", w.records(), w.log)
}

func TestRandomFaultSchedules(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newPropWorld(t, seed)
			for i := range 60 {
				w.step(i)
				w.checkNextAttempt(fmt.Sprintf("step %d", i))
			}
			w.settle()
			w.verify()
		})
	}
}

// verify checks what must hold once everything settled.
func (w *propWorld) verify() {
	t := w.t
	byID := map[string]devicelink.RenewCommand{}
	for _, c := range w.cmds {
		byID[c.CommandID] = c
	}
	states := map[string]devicelink.CommandState{}
	for _, c := range w.records() {
		states[c.CommandID] = c.State
		if !c.State.Terminal() {
			t.Errorf("command %s is %s after settling", c.CommandID, c.State)
		}
	}
	acked := map[string]int{}
	for _, a := range w.sink.Acks() {
		acked[a.CommandID]++
	}
	for id, n := range acked {
		if n != 1 {
			t.Errorf("command %s passed to the sink %d times", id, n)
		}
	}
	failed := map[string]int{}
	for _, f := range w.sink.Failures() {
		failed[f.CommandID]++
		if f.State != states[f.CommandID] {
			t.Errorf("failure sink got %s as %s, now %s", f.CommandID, f.State, states[f.CommandID])
		}
	}
	for _, m := range propMeters {
		s, _ := w.fleet.Get(m.id)
		if countEvents(s, "platform accepted a replayed envelope") != 0 {
			t.Errorf("%s: a replayed envelope was accepted", m.id)
		}
		seen := map[string]bool{}
		txns := map[string]bool{}
		want := map[string]time.Time{}
		for _, id := range s.Applied {
			c, ok := byID[id]
			if !ok {
				t.Errorf("%s applied unknown command %s", m.id, id)
				continue
			}
			if seen[id] || txns[c.TxnID] {
				t.Errorf("%s applied %s (txn %s) twice", m.id, id, c.TxnID)
			}
			seen[id], txns[c.TxnID] = true, true
			if n := countEvents(s, "command "+id+" renew"); n != 1 {
				t.Errorf("%s: command %s executed %d times", m.id, id, n)
			}
			if c.PaidUntil.After(want[c.Bay]) {
				want[c.Bay] = c.PaidUntil
			}
			// What the meter applied the platform settled as applied, or
			// gave up on as unknown; never as expired or rejected.
			if st := states[id]; st != devicelink.StateAcked && st != devicelink.StateFailed {
				t.Errorf("%s applied %s but the platform has it %s", m.id, id, st)
			}
		}
		for _, b := range s.Bays {
			if !b.PaidUntil.Equal(want[b.Bay]) {
				t.Errorf("%s bay %s: paid_until %s, want max of applied renewals %s", m.id, b.Bay, b.PaidUntil, want[b.Bay])
			}
		}
	}
	for id, st := range states {
		if st == devicelink.StateAcked {
			c := byID[id]
			s, _ := w.fleet.Get(c.MeterID)
			if !slices.Contains(s.Applied, id) {
				t.Errorf("platform acked %s, but %s never applied it", id, c.MeterID)
			}
			if acked[id] != 1 {
				t.Errorf("acked %s reached the sink %d times", id, acked[id])
			}
		}
		wantFail := st == devicelink.StateFailed || st == devicelink.StateExpired || st == devicelink.StateCancelled
		if wantFail != (failed[id] == 1) || failed[id] > 1 {
			t.Errorf("command %s is %s; failure sink called %d times", id, st, failed[id])
		}
	}
	if t.Failed() {
		t.Logf("run: %v", w.log)
	}
	count := map[devicelink.CommandState]int{}
	for _, st := range states {
		count[st]++
	}
	var stats []string
	for _, m := range propMeters {
		s, _ := w.fleet.Get(m.id)
		stats = append(stats, fmt.Sprintf("%s: wakes %d power losses %d rejected replies %d applied %d", m.id,
			s.Counters.Wakes, s.Counters.PowerLosses, s.Counters.RejectedReplies, len(s.Applied)))
	}
	t.Logf("outcomes %v; %v", count, stats)
}
