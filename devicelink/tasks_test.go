package devicelink_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
	"ppprenew/workflows/redistest"
)

// TestWakeRunsAsAsynqTask runs the lifecycle on a real asynq worker with the
// real clock and short timers.
func TestWakeRunsAsAsynqTask(t *testing.T) {
	rdb := redistest.Client(t, redistest.DBDeviceLink)
	checkSlots(t, rdb)
	opt := redistest.Options(redistest.DBDeviceLink)
	ropt := asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB}
	client := asynq.NewClient(ropt)
	t.Cleanup(func() { _ = client.Close() })

	woken := make(chan devicelink.WakeRequest, 4)
	waker := &devicelinktest.Waker{OnWake: func(_ context.Context, req devicelink.WakeRequest) (devicelink.WakeResult, error) {
		woken <- req
		return devicelink.WakeResult{CallSID: "CA1", Status: "queued"}, nil
	}}
	sink := devicelinktest.NewSink()
	cfg := devicelink.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Tasks, cfg.Waker, cfg.TaskQueue = client, waker, "dltest"
	cfg.WakeBatchWindow = 20 * time.Millisecond
	cfg.SessionIdle = 50 * time.Millisecond
	svc, err := devicelink.NewService(rdb, cfg, bytes.Repeat([]byte{7}, 32), sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := asynq.NewServer(ropt, asynq.Config{
		Concurrency: 2, Queues: map[string]int{"dltest": 1}, DelayedTaskCheckInterval: 20 * time.Millisecond,
		Logger: quietLogger{}, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	svc.RegisterTasks(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	ctx := t.Context()
	key, err := svc.CreateMeter(ctx, devicelink.Meter{ID: "M-1", SIMNumber: "+85291234567", Bays: []string{"12"}})
	if err != nil {
		t.Fatal(err)
	}
	codec, _ := devicelink.NewMeterCodec("M-1", 1, key, 0)
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := svc.EnqueueRenewal(ctx, devicelink.RenewCommand{CommandID: "c-1", MeterID: "M-1", Bay: "12", TxnID: "p-1", PaidUntil: until}); err != nil {
		t.Fatal(err)
	}
	var req devicelink.WakeRequest
	select {
	case req = <-woken:
	case <-time.After(15 * time.Second):
		t.Fatal("the wake task never ran")
	}
	if req.MeterID != "M-1" || req.AttemptID != "M-1:1" {
		t.Fatalf("wake request = %+v", req)
	}
	exchange := func(msg devicelink.MeterMessage) devicelink.Reply {
		t.Helper()
		env, _, _ := codec.SealMessage(msg)
		out, err := svc.Exchange(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := codec.OpenReply(out)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	rep := exchange(devicelink.MeterMessage{Type: devicelink.MsgHello, Reason: devicelink.ReasonWake})
	if !slices.Equal(commandIDs(rep.Commands), []string{"c-1"}) {
		t.Fatalf("connect-back carries %v", commandIDs(rep.Commands))
	}
	exchange(ackApplied(rep.Commands[0], until))
	if c, _ := svc.Command(ctx, "c-1"); c.State != devicelink.StateAcked {
		t.Fatalf("state = %s", c.State)
	}
	// The timer armed for the session check runs and clears itself.
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := svc.Status(ctx, "M-1")
		if err != nil {
			t.Fatal(err)
		}
		if st.NextWakeAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timer never cleared: %s", st.NextWakeAt)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(waker.Requests()); n != 1 {
		t.Errorf("%d wake calls, want 1", n)
	}

	// Sweeps chain themselves with deterministic ids.
	if err := svc.StartSweeps(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.StartSweeps(ctx); err != nil {
		t.Fatalf("second StartSweeps: %v", err)
	}
	insp := asynq.NewInspector(ropt)
	t.Cleanup(func() { _ = insp.Close() })
	sweeps := func() []string {
		t.Helper()
		tasks, err := insp.ListScheduledTasks("dltest")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ti := range tasks {
			if ti.Type == devicelink.TaskSweep {
				out = append(out, ti.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	first := sweeps()
	if len(first) != 1 {
		t.Fatalf("scheduled sweeps = %v, want one", first)
	}
	// A sweep (even one run early) enqueues the one of the following slot.
	slot, _ := strconv.ParseInt(strings.TrimPrefix(first[0], "dl:sweep:"), 10, 64)
	if err := svc.HandleSweep(ctx, asynq.NewTask(devicelink.TaskSweep, []byte(fmt.Sprintf(`{"slot":%d}`, slot)))); err != nil {
		t.Fatal(err)
	}
	want := []string{first[0], fmt.Sprintf("dl:sweep:%d", slot+60)}
	if got := sweeps(); !slices.Equal(got, want) {
		t.Errorf("scheduled sweeps = %v, want %v", got, want)
	}
}

// quietLogger drops asynq's log lines.
type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}
