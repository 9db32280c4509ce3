package meter_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
	"ppprenew/sim/meter"
	"ppprenew/workflows/redistest"
)

const platformCaller = "+85230001000"

// world is the whole wake path end to end with the real clock: the device
// link on a real Redis behind an httptest server, a real asynq worker, a
// dial-up waker placing calls through twilio-go to a fake Calls API that
// rings the simulated meters and reports the outcome to the wake-status
// webhook, and a fleet of sleeping meters running their loops.
type world struct {
	t     *testing.T
	ctx   context.Context
	svc   *devicelink.Service
	sink  *devicelinktest.Sink
	fleet *meter.Fleet
	calls *devicelinktest.CallsServer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), sink: devicelinktest.NewSink()}
	rdb := redistest.Client(t, redistest.DBSim)
	opt := redistest.Options(redistest.DBSim)
	ropt := asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB}
	tasks := asynq.NewClient(ropt)
	t.Cleanup(func() { _ = tasks.Close() })

	e := echo.New()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	var callbacks sync.WaitGroup
	t.Cleanup(callbacks.Wait)
	w.calls = devicelinktest.NewCallsServer()
	t.Cleanup(w.calls.Close)
	w.calls.OnCall = func(c devicelinktest.Call) (string, string, error) {
		sid := fmt.Sprintf("CA%032d", time.Now().UnixNano())
		outcome, handled := w.fleet.Ring(w.ctx, c.Form.Get("To"), c.Form.Get("From"))
		if !handled {
			outcome = "failed"
		}
		callbacks.Add(1)
		go func() {
			defer callbacks.Done()
			form := url.Values{"CallSid": {sid}, "CallStatus": {outcome}}
			resp, err := http.PostForm(c.Form.Get("StatusCallback"), form)
			if err == nil {
				resp.Body.Close()
			}
		}()
		return sid, "queued", nil
	}

	cfg := devicelink.DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg.Tasks, cfg.TaskQueue = tasks, "simtest"
	cfg.Waker = devicelink.NewDialUpWaker(w.calls.Client("ACtest", "secret"), platformCaller,
		srv.URL+"/twilio/voice/wake-status", 25*time.Second)
	cfg.WakeBatchWindow = 20 * time.Millisecond
	cfg.SessionIdle = 300 * time.Millisecond
	cfg.ConnectBackDeadline = 5 * time.Second
	cfg.WakeBackoff = []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}
	cfg.WakeRetryEvery = 400 * time.Millisecond
	cfg.DoubtGrace = time.Second
	svc, err := devicelink.NewService(rdb, cfg, bytes.Repeat([]byte{9}, 32), w.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.svc = svc
	svc.Register(e)
	svc.RegisterAdmin(e.Group("/admin/v1"))
	// The signed webhook belongs to the server; this one only forwards.
	e.POST("/twilio/voice/wake-status", func(c echo.Context) error {
		err := svc.CallStatus(c.Request().Context(), c.QueryParam(devicelink.WakeAttemptParam), c.FormValue("CallSid"), c.FormValue("CallStatus"))
		if err != nil {
			return c.NoContent(http.StatusBadRequest)
		}
		return c.NoContent(http.StatusNoContent)
	})

	worker := asynq.NewServer(ropt, asynq.Config{
		Concurrency: 4, Queues: map[string]int{"simtest": 1}, DelayedTaskCheckInterval: 20 * time.Millisecond,
		Logger: quietLogger{}, LogLevel: asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	svc.RegisterTasks(mux)
	if err := worker.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(worker.Shutdown)

	w.fleet = meter.NewFleet(meter.Config{
		ServerURL: srv.URL, AdminURL: srv.URL + "/admin/v1", PollInterval: 20 * time.Millisecond,
		PlatformCallerID: platformCaller, IdleTimeout: 300 * time.Millisecond,
	})
	t.Cleanup(w.fleet.Close)
	return w
}

// asleep adds a sleeping meter and waits until it went back to sleep after
// its boot hello.
func (w *world) asleep(id, sim string) {
	w.t.Helper()
	if _, err := w.fleet.Add(w.ctx, meter.Spec{ID: id, SIMNumber: sim, Bays: []string{"1", "2"}}); err != nil {
		w.t.Fatal(err)
	}
	w.eventually("meter asleep", func() bool { s, _ := w.fleet.Get(id); return !s.Awake })
}

// eventually polls cond until it holds or 20 s pass.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func (w *world) waitAcks(n int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	if !w.sink.WaitFor(ctx, func(_ []devicelink.Transaction, acks []devicelink.Ack) bool { return len(acks) >= n }) {
		w.t.Fatalf("no ack: %d acks", len(w.sink.Acks()))
	}
}

func (w *world) snapshot(id string) meter.Snapshot {
	w.t.Helper()
	s, ok := w.fleet.Get(id)
	if !ok {
		w.t.Fatalf("no meter %s", id)
	}
	return s
}

func TestSleepingMeterWokenAndRenewed(t *testing.T) {
	w := newWorld(t)
	w.asleep("PM-1", "+85261230001")
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if err := w.svc.EnqueueRenewal(w.ctx, devicelink.RenewCommand{CommandID: "c-1", MeterID: "PM-1", Bay: "2", TxnID: "pay-1", PaidUntil: until}); err != nil {
		t.Fatal(err)
	}
	w.waitAcks(1)
	if a := w.sink.Acks()[0]; a.CommandID != "c-1" || !a.Applied || !a.PaidUntil.Equal(until) {
		t.Errorf("ack = %+v", a)
	}
	s := w.snapshot("PM-1")
	if !s.Bays[1].PaidUntil.Equal(until) || s.Counters.Wakes != 1 || s.Counters.RefusedCalls != 0 {
		t.Errorf("meter = %+v", s)
	}
	w.eventually("command acked", func() bool {
		c, _ := w.svc.Command(w.ctx, "c-1")
		return c.State == devicelink.StateAcked
	})
	c, _ := w.svc.Command(w.ctx, "c-1")
	if !strings.Contains(fmt.Sprint(states(c)), "waking in_session delivered accepted acked") {
		t.Errorf("history = %v", states(c))
	}
	calls := w.calls.Calls()
	if len(calls) != 1 || calls[0].Form.Get("To") != "+85261230001" || calls[0].Form.Get("From") != platformCaller ||
		calls[0].Form.Get("Twiml") != devicelink.RejectTwiML {
		t.Fatalf("calls = %+v", calls)
	}
	w.eventually("busy status recorded", func() bool {
		st, _ := w.svc.Status(w.ctx, "PM-1")
		return len(st.WakeAttempts) == 1 && st.WakeAttempts[0].Status == meter.OutcomeBusy
	})
	st, _ := w.svc.Status(w.ctx, "PM-1")
	if st.WakeAttempts[0].ConnectBack != devicelink.ConnectBackOK || len(st.SecurityEvents) != 0 || st.LastReason == "" {
		t.Errorf("status = %+v", st)
	}
	w.eventually("meter back asleep", func() bool { return !w.snapshot("PM-1").Awake })
}

func TestSpoofedCallerIsIgnored(t *testing.T) {
	w := newWorld(t)
	w.asleep("PM-1", "+85261230001")
	for _, from := range []string{"+85299998888", "anonymous", ""} {
		if out, ok := w.fleet.Ring(w.ctx, "+85261230001", from); out != meter.OutcomeBusy || !ok {
			t.Errorf("ring from %q = %q, %v", from, out, ok)
		}
	}
	if _, ok := w.fleet.Ring(w.ctx, "+85200000000", platformCaller); ok {
		t.Error("a number of no meter was handled")
	}
	w.fleet.Tick(w.ctx)
	s := w.snapshot("PM-1")
	if s.Counters.RefusedCalls != 3 || s.Counters.Wakes != 0 || !s.WakeAt.IsZero() || s.Awake {
		t.Fatalf("meter = %+v", s.Counters)
	}
	st, _ := w.svc.Status(w.ctx, "PM-1")
	if st.LastReason != devicelink.ReasonBoot {
		t.Errorf("platform saw a %q hello", st.LastReason)
	}
	// The next check-in reports the refused calls.
	if err := w.fleet.CheckIn(w.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	st, _ = w.svc.Status(w.ctx, "PM-1")
	if len(st.SecurityEvents) != 1 || st.SecurityEvents[0].Kind != devicelink.SecurityRefusedCalls || st.Flags.RefusedCalls != 3 {
		t.Errorf("security events = %+v", st.SecurityEvents)
	}
}

func TestPowerLossAtEachPoint(t *testing.T) {
	for _, point := range []string{meter.PowerLossBeforeJournal, meter.PowerLossAfterJournal, meter.PowerLossAfterExecute, meter.PowerLossAfterAck} {
		t.Run(point, func(t *testing.T) {
			w := newWorld(t)
			w.asleep("PM-1", "+85261230001")
			m, _ := w.fleet.Meter("PM-1")
			m.SetFaults(meter.Faults{PowerLoss: point})
			until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
			if err := w.svc.EnqueueRenewal(w.ctx, devicelink.RenewCommand{CommandID: "c-1", MeterID: "PM-1", Bay: "1", TxnID: "pay-1", PaidUntil: until}); err != nil {
				t.Fatal(err)
			}
			w.waitAcks(1)
			// After the ack the meter may still be reading the reply it
			// loses with its power.
			w.eventually("power loss", func() bool { return w.snapshot("PM-1").Counters.PowerLosses > 0 })
			s := w.snapshot("PM-1")
			if n := countEvents(s, "command c-1 renew"); n != 1 {
				t.Errorf("applied %d times, want once", n)
			}
			if !s.Bays[0].PaidUntil.Equal(until) || s.Counters.PowerLosses != 1 || s.BootCount != 2 {
				t.Errorf("meter: paid_until %s, power losses %d, boot %d", s.Bays[0].PaidUntil, s.Counters.PowerLosses, s.BootCount)
			}
			// The sink hears of the ack just before the command is acked.
			w.eventually("command acked", func() bool {
				c, _ := w.svc.Command(w.ctx, "c-1")
				return c.State == devicelink.StateAcked
			})
			if acks := w.sink.Acks(); len(acks) != 1 || !acks[0].PaidUntil.Equal(until) {
				t.Errorf("acks = %+v", acks)
			}
		})
	}
}

func TestUnreachableMeterExpires(t *testing.T) {
	w := newWorld(t)
	w.asleep("PM-1", "+85261230001")
	m, _ := w.fleet.Meter("PM-1")
	m.SetFaults(meter.Faults{RadioUnreachable: true})
	until := time.Now().Add(5 * time.Second)
	if err := w.svc.EnqueueRenewal(w.ctx, devicelink.RenewCommand{CommandID: "c-1", MeterID: "PM-1", Bay: "1", TxnID: "pay-1", PaidUntil: until}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	w.sink.WaitFor(ctx, func([]devicelink.Transaction, []devicelink.Ack) bool { return len(w.sink.Failures()) > 0 })
	f := w.sink.Failures()
	if len(f) != 1 || f[0].CommandID != "c-1" || f[0].State != devicelink.StateExpired {
		t.Fatalf("failures = %+v", f)
	}
	st, _ := w.svc.Status(w.ctx, "PM-1")
	if len(st.WakeAttempts) < 2 {
		t.Fatalf("wake attempts = %+v", st.WakeAttempts)
	}
	for _, a := range st.WakeAttempts {
		if a.ConnectBack == devicelink.ConnectBackOK {
			t.Errorf("attempt %s connected back", a.ID)
		}
	}
	w.eventually("no-answer recorded", func() bool {
		st, _ := w.svc.Status(w.ctx, "PM-1")
		return st.WakeAttempts[len(st.WakeAttempts)-1].Status == meter.OutcomeNoAnswer
	})
	if s := w.snapshot("PM-1"); s.Counters.UnreachableRings < 2 || len(s.Applied) != 0 {
		t.Errorf("meter counters = %+v", s.Counters)
	}
}

func states(c devicelink.CommandRecord) []devicelink.CommandState {
	out := []devicelink.CommandState{}
	for _, tr := range c.History {
		out = append(out, tr.To)
	}
	return out
}

// quietLogger drops asynq's log lines.
type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}
