package devicelink_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/devicelink"
)

// The global indexes live in slots of their own, apart from the meters they
// index, so they change beside a meter's script, not in it. These tests set
// up what a crash between the two steps leaves and check that it is
// repaired.

func TestMeterListedButNotCreatedIsSkipped(t *testing.T) {
	h := newHarness(t)
	h.meter("M-1", "12")
	// A registration that wrote the list, then crashed before the meter.
	now := float64(h.clock.Now().UnixMilli())
	if err := h.rdb.ZAddNX(h.ctx, devicelink.KeyMeters, redis.Z{Score: now, Member: "M-9"}).Err(); err != nil {
		t.Fatal(err)
	}
	ms, err := h.svc.Meters(h.ctx)
	if err != nil || len(ms) != 1 || ms[0].ID != "M-1" {
		t.Fatalf("Meters = %+v, %v; want only M-1", ms, err)
	}
	// Registering the id again later completes it, listed once.
	h.clock.Advance(time.Minute)
	h.meter("M-9", "1")
	ms, err = h.svc.Meters(h.ctx)
	if err != nil || len(ms) != 2 || ms[0].ID != "M-1" || ms[1].ID != "M-9" {
		t.Fatalf("Meters = %+v, %v; want M-1, M-9", ms, err)
	}
}

func TestEarlyTimerIndexCostsOneIdleStep(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	// armWake lowered the index, then crashed before arming the timer.
	if err := h.rdb.ZAdd(h.ctx, devicelink.KeyTimers, redis.Z{Score: float64(h.clock.Now().UnixMilli()), Member: "M-1"}).Err(); err != nil {
		t.Fatal(err)
	}
	h.sweep()
	if n := len(waker.Requests()); n != 0 {
		t.Fatalf("woken %d times with nothing to do", n)
	}
	if err := h.rdb.ZScore(h.ctx, devicelink.KeyTimers, "M-1").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("timer index entry kept: %v", err)
	}
	// A renewal enqueued now is still woken for.
	until := h.clock.Now().Add(time.Hour)
	h.enqueue("c-1", "M-1", "12", until)
	due, err := h.rdb.ZScore(h.ctx, devicelink.KeyTimers, "M-1").Result()
	if err != nil || int64(due) != h.status("M-1").NextWakeAt.UnixMilli() {
		t.Fatalf("timer index %v (%v), timer %s", due, err, h.status("M-1").NextWakeAt)
	}
	h.clock.Advance(2 * time.Second)
	h.sweep()
	if n := len(waker.Requests()); n != 1 {
		t.Fatalf("woken %d times, want 1", n)
	}
}

func TestMeterBackFromMissingIsIndexedAgain(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	m.mustSend(poll)
	// The seen index lost the meter's last exchange (a crash after the
	// meter's hash was touched): the sweep raises a false alarm.
	if err := h.rdb.ZAdd(h.ctx, devicelink.KeySeen, redis.Z{Score: 0, Member: "M-1"}).Err(); err != nil {
		t.Fatal(err)
	}
	if r := h.sweep(); r.Missing != 1 {
		t.Fatalf("sweep = %+v, want M-1 missing", r)
	}
	// The meter's next exchange, within the minute, ends the alarm and
	// puts it back in the index, so real silence is reported again.
	h.clock.Advance(30 * time.Second)
	m.mustSend(poll)
	if ev := h.status("M-1").StatusEvents; len(ev) == 0 || ev[0].Kind != devicelink.StatusBack {
		t.Fatalf("status events = %+v, want back", ev)
	}
	h.clock.Advance(devicelink.DefaultConfig().MissingMeterAlarm + time.Minute)
	if r := h.sweep(); r.Missing != 1 {
		t.Fatalf("sweep after real silence = %+v, want M-1 missing", r)
	}
}

// failHook makes the commands fail for which fail returns true.
type failHook struct{ fail func(args []any) bool }

func (f failHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f failHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.fail(cmd.Args()) {
			cmd.SetErr(errCrash)
			return errCrash
		}
		return next(ctx, cmd)
	}
}
func (f failHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

var errCrash = errors.New("crashed here")

func TestTimerArmedWithoutItsLastIndexWriteIsStillSwept(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	// The process dies once the meter's timer is armed: the index write
	// that follows the timer script never happens.
	var crashed atomic.Bool
	h.rdb.AddHook(failHook{fail: func(args []any) bool {
		return !crashed.Load() && len(args) == 4 && fmt.Sprint(args[0]) == "zadd" && fmt.Sprint(args[1]) == devicelink.KeyTimers &&
			crashed.CompareAndSwap(false, true)
	}})
	err := h.svc.EnqueueRenewal(h.ctx, h.renewal("c-1", "M-1", "12", h.clock.Now().Add(time.Hour)))
	if !errors.Is(err, errCrash) {
		t.Fatalf("EnqueueRenewal = %v, want the crash", err)
	}
	if h.status("M-1").NextWakeAt.IsZero() {
		t.Fatal("the crash came before the timer was armed")
	}
	// No retry and no wake task: the sweep alone finds the timer.
	h.clock.Advance(2 * time.Second)
	if r := h.sweep(); r.Steps != 1 || len(waker.Requests()) != 1 {
		t.Fatalf("sweep = %+v, %d wakes; want the meter woken", r, len(waker.Requests()))
	}
}
