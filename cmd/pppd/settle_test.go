package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"ppprenew/workflows"
)

// Side effects counted where a repeat would show: the simulated gateway
// counts every charge request it received (its ledger de-duplicates by
// idempotency key, these counters do not), the simulated meters count the
// renew commands they executed and the repeated deliveries they ignored,
// and the simulated carrier counts every Messages POST it accepted.

// chargePOSTs is how many charge requests for the card reached the gateway,
// repeats under the same idempotency key included.
func (h *harness) chargePOSTs(card string) int { return h.world.Gateway.ReceivedForCard(card) }

// renewsExecuted is how many renew commands the meter executed.
func (h *harness) renewsExecuted(meterID string) int {
	s, ok := h.world.Fleet.Get(meterID)
	if !ok {
		h.t.Fatalf("no meter %s", meterID)
	}
	return s.Counters.RenewsExecuted
}

// textsAccepted is how many texts to the phone the carrier accepted.
func (h *harness) textsAccepted(phone string) int { return h.world.Carrier.TextsAccepted(phone) }

// exactlyOnce asserts that the card was charged by exactly one charge
// request and the meter executed exactly one renewal.
func (h *harness) exactlyOnce(card, meterID string) {
	h.t.Helper()
	if n := h.chargePOSTs(card); n != 1 {
		h.t.Fatalf("the gateway received %d charge requests for the card, want exactly 1", n)
	}
	if n := len(h.succeededCharges()); n != 1 {
		h.t.Fatalf("%d charges succeeded, want exactly 1", n)
	}
	if n := h.renewsExecuted(meterID); n != 1 {
		h.t.Fatalf("meter %s executed %d renewals, want exactly 1", meterID, n)
	}
}

// settle waits until the service has nothing left to do up to through: no
// task pending, running or waiting for a retry in its queue, no task
// scheduled at or before through (a timer that falls due must fire and be
// handled first; zero through ignores scheduled tasks), and no command to
// the given meters still awaiting an outcome or an outcome not yet handed
// to the conversation. Only then can a test say that nothing more happens.
// The state has to hold on two polls in a row.
func (h *harness) settle(through time.Time, meters ...string) {
	h.t.Helper()
	ins := asynq.NewInspector(h.app.redisOpt)
	defer ins.Close()
	queue := workflows.DefaultTaskConfig().Queue
	var why string
	busy := func() bool {
		q, err := ins.GetQueueInfo(queue)
		if err != nil {
			if strings.Contains(err.Error(), "not found") {
				return false // nothing was ever enqueued
			}
			why = err.Error()
			return true
		}
		if q.Pending+q.Active+q.Retry > 0 {
			why = fmt.Sprintf("%d pending, %d active, %d retrying tasks", q.Pending, q.Active, q.Retry)
			return true
		}
		if !through.IsZero() && q.Scheduled > 0 {
			tasks, err := ins.ListScheduledTasks(queue, asynq.PageSize(1000))
			if err != nil {
				why = err.Error()
				return true
			}
			for _, t := range tasks {
				if !t.NextProcessAt.After(through) {
					why = fmt.Sprintf("task %s due at %s", t.ID, t.NextProcessAt.Format(time.TimeOnly))
					return true
				}
			}
		}
		for _, m := range meters {
			open := h.app.rdb.ZCard(h.t.Context(), "ppp:dl:m:{"+m+"}:open").Val()
			sink := h.app.rdb.SCard(h.t.Context(), "ppp:dl:m:{"+m+"}:acksink").Val()
			if open+sink > 0 {
				why = fmt.Sprintf("meter %s: %d open commands, %d outcomes not handed over", m, open, sink)
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for quiet := 0; quiet < 2; <-tick.C {
		if !busy() {
			quiet++
			continue
		}
		quiet = 0
		if time.Now().After(deadline) {
			h.t.Fatalf("gave up waiting for the service to settle: %s", why)
		}
	}
}
