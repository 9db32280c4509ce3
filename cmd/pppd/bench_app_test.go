package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/devicelink"
	"ppprenew/sim"
	"ppprenew/sim/world"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// benchApp is the whole service started as the end-to-end harness starts
// it (the simulated world in this process, the server on a loopback
// listener), for benchmarks, which have no *testing.T for the harness.
type benchApp struct {
	tb    testing.TB
	app   *App
	world *world.World
	rdb   *redis.Client // the suite's own client on the same database
	hc    *http.Client
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
	rdb := redistest.Client(tb, db) // flushes the database
	cfg, err := LoadConfig(func(k string) string {
		return map[string]string{
			"PPP_HTTP_ADDR": "127.0.0.1:0", "PPP_SIM_ADDR": "127.0.0.1:0", "PPP_CARRIER": "sim",
			"REDIS_URL":      fmt.Sprintf("redis://%s/%d", redistest.Addr(), db),
			"PPP_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "PPP_SMS_RATE": "100",
		}[k]
	})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.PublicURL = "" // the listener's address
	level := slog.LevelWarn
	if os.Getenv("PPP_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	clock := clockAt(middayHK)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	w, err := world.New(world.Config{Addr: "127.0.0.1:0", ServerURL: "http://" + ln.Addr().String(), AdminToken: cfg.AdminToken,
		AccountSID: cfg.AccountSID, AuthToken: cfg.AuthToken, PlatformNumbers: []string{cfg.SMSFrom}, WakeCallerID: cfg.WakeCallerID,
		GatewayAPIKey: cfg.PaymentKey, VoiceTick: 100 * time.Millisecond, MeterPoll: meterPoll, Clock: clock,
		Logger: log.With("component", "sim")})
	if err != nil {
		_ = ln.Close()
		tb.Fatal(err)
	}
	w.Start()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w.Close(ctx)
	})
	cfg.SimAddr = w.Addr()
	cfg.PaymentURL = w.URL() + "/pay"
	app, err := NewApp(cfg, Options{Settings: benchSettings(tb), Clock: clock, Listener: ln,
		RetryDelay: func(int) time.Duration { return 200 * time.Millisecond },
		DeviceLink: func(c *devicelink.Config) { c.WakeBatchWindow = 200 * time.Millisecond }}, log)
	if err != nil {
		tb.Fatal(err)
	}
	if err := app.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		app.Close(ctx)
	})
	hc := &http.Client{Timeout: 30 * time.Second}
	tb.Cleanup(hc.CloseIdleConnections)
	return &benchApp{tb: tb, app: app, world: w, rdb: rdb, hc: hc}
}

// call makes a JSON request and decodes a 2xx answer; it returns the status.
func (a *benchApp) call(method, u, token string, in, out any) int {
	a.tb.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.hc.Do(req)
	if err != nil {
		a.tb.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			a.tb.Fatalf("%s %s: decode %q: %v", method, u, raw, err)
		}
	}
	return res.StatusCode
}

func (a *benchApp) simctl(method, path string, in, out any) int {
	return a.call(method, a.app.SimURL()+"/sim/v1"+path, "", in, out)
}

func (a *benchApp) admin(method, path string, in, out any) int {
	return a.call(method, a.app.ServerURL()+"/admin/v1"+path, a.app.cfg.AdminToken, in, out)
}

// parkedDrivers registers n drivers with credit cards, each parked at a bay
// of its own (meters of 16 bays) for 8 s, and returns their phones.
func (a *benchApp) parkedDrivers(n int) []string {
	a.tb.Helper()
	const baysPerMeter = 16
	bays := make([]string, baysPerMeter)
	for i := range bays {
		bays[i] = fmt.Sprint(i + 1)
	}
	for m := range (n + baysPerMeter - 1) / baysPerMeter {
		id := fmt.Sprintf("RB%d", m)
		if s := a.simctl("POST", "/meters", map[string]any{"id": id, "sim_number": simNumber(id), "zone": "", "location": "Pier Road", "bays": bays}, nil); s != 201 {
			a.tb.Fatalf("add meter %s: %d", id, s)
		}
	}
	phones := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("+8529100%04d", i)
		var card sim.Card
		if s := a.simctl("POST", "/cards", map[string]any{"kind": "credit", "last4": "4242", "balance_minor": 100000}, &card); s != 201 {
			a.tb.Fatalf("create card: %d", s)
		}
		user := map[string]any{"phone": phones[i], "language": "en", "card_token": card.Token, "card_last4": "4242", "card_kind": "credit"}
		if s := a.admin("POST", "/users", user, nil); s != 201 {
			a.tb.Fatalf("register user %d: %d", i, s)
		}
		meter, bay := fmt.Sprintf("RB%d", i/baysPerMeter), bays[i%baysPerMeter]
		if s := a.simctl("POST", "/meters/"+meter+"/bays/"+bay+"/tap", map[string]any{"card_token": card.Token, "seconds": 8, "amount_minor": 1000}, nil); s != 201 {
			a.tb.Fatalf("tap %s bay %s: %d", meter, bay, s)
		}
	}
	return phones
}

// openConversation is the one open conversation of a phone, or an empty
// state when there is none yet.
func (a *benchApp) openConversation(phone string) engine.State {
	a.tb.Helper()
	ctx := context.Background()
	ids, err := a.app.runner.Store.OpenForPhone(ctx, phone)
	if err != nil {
		a.tb.Fatal(err)
	}
	if len(ids) == 0 {
		return engine.State{}
	}
	st, err := a.app.runner.Store.Get(ctx, ids[0])
	if err != nil {
		a.tb.Fatal(err)
	}
	return st
}

// waitPhase waits until every phone's open conversation is in phase. The
// wait is bounded; it asserts an outcome, never a duration.
func (a *benchApp) waitPhase(phones []string, phase engine.Phase) {
	a.tb.Helper()
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
				a.tb.Fatalf("gave up waiting for %s's conversation to be %s (it is %q)", engine.MaskPhone(p), phase, st.Phase)
			}
			<-tick.C
		}
	}
}

// versions sums the versions of the phones' open conversations: each
// committed step adds one.
func (a *benchApp) versions(phones []string) int64 {
	a.tb.Helper()
	var sum int64
	for _, p := range phones {
		sum += a.openConversation(p).Version
	}
	return sum
}
