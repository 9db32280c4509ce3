package load

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"ppprenew/sim/simtest"
	"ppprenew/sim/world"
	"ppprenew/workflows/carrier"
	"ppprenew/workflows/redistest"
)

// stack is a world in this process and pppd as a process of its own
// against the test Redis, with the shipped settings: the load's voice
// drivers let calls reach them in the quiet hours, so a run passes at any
// hour.
type stack struct {
	server, sim string
}

func startStack(tb testing.TB) *stack {
	tb.Helper()
	redistest.Client(tb, redistest.DBLoad)
	bin := simtest.BuildServer(tb)
	serverAddr := simtest.FreeAddr(tb)
	w, err := world.New(world.Config{Addr: "127.0.0.1:0", ServerURL: "http://" + serverAddr, AdminToken: carrier.DevAdminToken,
		AccountSID: carrier.DevAccountSID, AuthToken: carrier.DevAuthToken, PlatformNumbers: []string{"+85258001000"},
		WakeCallerID: "+85258001000", GatewayAPIKey: carrier.DevPaymentKey, VoiceTick: 10 * time.Millisecond, MeterPoll: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		tb.Fatal(err)
	}
	w.Start()
	tb.Cleanup(func() { w.Close(context.Background()) })
	srv := &simtest.Server{TB: tb, Bin: bin, URL: "http://" + serverAddr, Env: simtest.SimEnv(serverAddr, w.Addr(), redistest.DBLoad)}
	srv.Start()
	return &stack{server: srv.URL, sim: w.URL()}
}

func (s *stack) options(drivers int, rate float64, mix Mix) Options {
	return Options{Drivers: drivers, Rate: rate, Mix: mix, Duration: time.Minute, Drain: 90 * time.Second,
		Server: s.server, Sim: s.sim, AdminToken: carrier.DevAdminToken}
}

// Twelve drivers on all three channels renew through the world and a
// server process: every journey completes, and every driver has exactly one
// charge, one charge request, one renewal executed by the meter and one
// confirmation. A second run against the same server, without a reset,
// takes numbers of its own and ends the same way.
func TestLoadEveryJourneyCompletesExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	s := startStack(t)
	o := s.options(12, 6, Mix{SMS: 50, Voice: 25, App: 25})
	o.Logf = t.Logf
	var runs []string
	for range 2 {
		res, err := Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run %s: %+v; %.2f renewals/s; payment->notice %+v; answer->confirmation %+v", res.Run, res.Journeys, res.Throughput, res.PaymentToNotice, res.AnswerToConfirmation)
		if res.Journeys != (Counts{Started: 12, Completed: 12}) {
			t.Fatalf("journeys %+v, want 12 started and completed; offenders %+v", res.Journeys, res.ExactlyOnce.Offenders)
		}
		if got := *res.ByChannel[SMS]; got.Completed != 6 {
			t.Errorf("sms journeys %+v, want 6", got)
		}
		if got := *res.ByChannel[Voice]; got.Completed != 3 {
			t.Errorf("voice journeys %+v, want 3", got)
		}
		if got := *res.ByChannel[App]; got.Completed != 3 {
			t.Errorf("app journeys %+v, want 3", got)
		}
		eo := res.ExactlyOnce
		if eo.Drivers != 12 || eo.Violations != 0 || eo.ChargesSucceeded != 12 || eo.ChargeRequests != 12 || eo.RenewalsExecuted != 12 || eo.Confirmations != 12 {
			t.Fatalf("exactly-once counts %+v", eo)
		}
		if res.PaymentToNotice.Count != 12 || res.AnswerToConfirmation.Count != 12 || res.Throughput <= 0 {
			t.Fatalf("latencies %+v %+v, throughput %v", res.PaymentToNotice, res.AnswerToConfirmation, res.Throughput)
		}
		if len(res.Warnings) != 0 {
			t.Errorf("warnings %q on a run the world carries", res.Warnings)
		}
		runs = append(runs, res.Run)
	}
	if runs[0] == runs[1] {
		t.Fatalf("both runs used the namespace %s", runs[0])
	}
}

// A rate the server's SMS pacing cannot carry is refused before anything
// is set up, saying why.
func TestLoadRefusesARateAboveTheSMSPacing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	s := startStack(t)
	_, err := Run(t.Context(), s.options(10, 40, Mix{SMS: 100})) // 120 texts/s, PPP_SMS_RATE=100
	if err == nil || !strings.Contains(err.Error(), "PPP_SMS_RATE") || !strings.Contains(err.Error(), "120.0 texts/s") {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkLoadEndToEnd is one fixed small run (30 drivers, 10 payments/s,
// sms=50,voice=25,app=25) through the world and a server process,
// whatever b.N: renewals/s, answer-to-confirmation p50 and p99, and the
// exactly-once violations.
func BenchmarkLoadEndToEnd(b *testing.B) {
	s := startStack(b)
	o := s.options(30, 10, Mix{SMS: 50, Voice: 25, App: 25})
	var res *Result
	for b.Loop() {
		if res != nil {
			continue
		}
		var err error
		if res, err = Run(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(res.Throughput, "renewals/s")
	b.ReportMetric(res.AnswerToConfirmation.P50, "p50_ms")
	b.ReportMetric(res.AnswerToConfirmation.P99, "p99_ms")
	b.ReportMetric(float64(res.ExactlyOnce.Violations), "violations")
	b.ReportMetric(float64(res.Journeys.Completed), "completed")
}
