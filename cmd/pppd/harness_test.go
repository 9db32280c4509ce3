package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"ppprenew/devicelink"
	"ppprenew/sim"
	"ppprenew/sim/world"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// testSettings are the shipped settings with timings of seconds, so whole
// conversations run in a test: tap for 8 s and the notice is due after 3 s,
// the grace period ends 12 s after the paid time.
func testSettings(t *testing.T) *engine.Settings {
	t.Helper()
	y := string(engine.DefaultSettingsYAML())
	for old, repl := range map[string]string{
		"lead_time: 10m":                       "lead_time: 5s",
		"grace_period: 10m":                    "grace_period: 12s",
		"grace_alert_before: 3m":               "grace_alert_before: 8s",
		"meter_ack_timeout: 2m":                "meter_ack_timeout: 8s",
		"zones:\n":                             "zones:\n  short:\n    maximum_stay: 40s\n",
		"lead_time_range: {min: 5m, max: 30m}": "lead_time_range: {min: 1s, max: 30m}",
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("test settings: %q not found in the shipped file", old)
		}
		y = strings.Replace(y, old, repl, 1)
	}
	s, err := engine.ParseSettings([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// harness runs the whole service, as `make run` does but on a real Redis
// database and random ports, and drives it only through HTTP.
type harness struct {
	t     testing.TB
	app   *App
	world *world.World // the simulated world, in this process to share the clock
	hc    *http.Client
	now   func() time.Time // the service's clock
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, nil) }

// middayHK is where the service's clock starts in every end-to-end test
// unless the test places it elsewhere: a weekday noon in the operator's time
// zone, outside the shipped quiet hours (22:00-07:00) and far from midnight,
// so no test depends on the hour at which it runs.
var middayHK = time.Date(2026, time.June, 15, 12, 0, 0, 0, mustZone("Asia/Hong_Kong"))

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// clockAt is a clock that reads start now and runs at the machine's rate,
// so real timers (asynq, the simulated meters) and the service agree.
func clockAt(start time.Time) func() time.Time {
	offset := time.Until(start)
	return func() time.Time { return time.Now().Add(offset) }
}

// newHarnessWith lets a test change the settings first.
func newHarnessWith(t *testing.T, edit func(*engine.Settings)) *harness {
	t.Helper()
	return newHarnessAt(t, middayHK, edit)
}

// newHarnessAt starts the service with its clock placed at start.
func newHarnessAt(t *testing.T, start time.Time, edit func(*engine.Settings)) *harness {
	t.Helper()
	set := testSettings(t)
	if edit != nil {
		edit(set)
	}
	return startHarness(t, redistest.DBEndToEnd, start, set, 100*time.Millisecond)
}

// startHarness starts the world and the server on Redis database db
// (flushed first) with the settings set, the clock placed at start and the
// simulated meters looping every meterPoll, and stops both when tb ends.
// Benchmarks share it with the tests.
func startHarness(tb testing.TB, db int, start time.Time, set *engine.Settings, meterPoll time.Duration) *harness {
	tb.Helper()
	return startHarnessPaced(tb, db, start, set, meterPoll, 100)
}

// startHarnessPaced is startHarness with the sending number paced at
// smsRate texts per second (PPP_SMS_RATE; 100 in startHarness).
func startHarnessPaced(tb testing.TB, db int, start time.Time, set *engine.Settings, meterPoll time.Duration, smsRate int) *harness {
	tb.Helper()
	redistest.Client(tb, db) // flushes the database
	cfg, err := LoadConfig(func(k string) string {
		return map[string]string{
			"PPP_HTTP_ADDR": "127.0.0.1:0", "PPP_SIM_ADDR": "127.0.0.1:0", "PPP_CARRIER": "sim",
			"REDIS_URL":      fmt.Sprintf("redis://%s/%d", redistest.Addr(), db),
			"PPP_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "PPP_SMS_RATE": strconv.Itoa(smsRate),
		}[k]
	})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.PublicURL = "" // the listener's address
	level := slog.LevelWarn
	if _, bench := tb.(*testing.B); bench {
		level = slog.LevelError // warnings at teardown would break the benchmark's output lines
	}
	if os.Getenv("PPP_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	clock := clockAt(start)
	// The world plays against the server's address, so the server's
	// listener is opened first; the server learns the world's from
	// PPP_SIM_ADDR.
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
	app, err := NewApp(cfg, Options{Settings: set, Clock: clock, Listener: ln,
		RetryDelay: func(int) time.Duration { return 200 * time.Millisecond },
		HoldPause:  4 * time.Second,
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
	return &harness{t: tb, app: app, world: w, hc: hc, now: clock}
}

// call makes a JSON request and decodes the answer; it returns the status.
func (h *harness) call(method, u, token string, in, out any) int {
	h.t.Helper()
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
	res, err := h.hc.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s %s: decode %q: %v", method, u, raw, err)
		}
	}
	return res.StatusCode
}

func (h *harness) simctl(method, path string, in, out any) int {
	return h.call(method, h.app.SimURL()+"/sim/v1"+path, "", in, out)
}

func (h *harness) admin(method, path string, in, out any) int {
	return h.call(method, h.app.ServerURL()+"/admin/v1"+path, h.app.cfg.AdminToken, in, out)
}

// driver registers a user with a new card at the simulated gateway and
// returns the card token.
func (h *harness) driver(phone, lang, kind string, balance int64) string {
	h.t.Helper()
	return h.driverWith(phone, lang, kind, balance, nil)
}

// driverWith registers a driver with extra user fields (channel, pin).
func (h *harness) driverWith(phone, lang, kind string, balance int64, extra map[string]any) string {
	h.t.Helper()
	var card sim.Card
	if s := h.simctl("POST", "/cards", map[string]any{"kind": kind, "last4": "4242", "balance_minor": balance}, &card); s != 201 {
		h.t.Fatalf("create card: %d", s)
	}
	user := map[string]any{"phone": phone, "language": lang, "card_token": card.Token, "card_last4": "4242", "card_kind": kind}
	for k, v := range extra {
		user[k] = v
	}
	if s := h.admin("POST", "/users", user, nil); s != 201 {
		h.t.Fatalf("register user: %d", s)
	}
	return card.Token
}

// simNumber is the SIM number of a test meter: every meter has its own, as
// a taken number is refused.
func simNumber(meterID string) string {
	return fmt.Sprintf("+8526%07d", crc32.ChecksumIEEE([]byte(meterID))%10_000_000)
}

func (h *harness) meter(id, zone string) {
	h.t.Helper()
	if s := h.simctl("POST", "/meters", map[string]any{"id": id, "sim_number": simNumber(id), "zone": zone, "location": "Pier Road", "bays": []string{"1", "2", "3"}}, nil); s != 201 {
		h.t.Fatalf("add meter: %d", s)
	}
}

func (h *harness) tap(meterID, bay, token string, d time.Duration) {
	h.t.Helper()
	if s := h.simctl("POST", "/meters/"+meterID+"/bays/"+bay+"/tap", map[string]any{"card_token": token, "seconds": int(d / time.Second), "amount_minor": 1000}, nil); s != 201 {
		h.t.Fatalf("tap: %d", s)
	}
}

// text sends an SMS from a phone to the platform and returns the webhook status.
func (h *harness) text(from, body string, twice bool) sim.InboundResult {
	h.t.Helper()
	var res sim.InboundResult
	if s := h.simctl("POST", "/phones/"+url.PathEscape(from)+"/sms", map[string]any{"body": body, "duplicate": twice}, &res); s != 200 {
		h.t.Fatalf("send sms: %d", s)
	}
	return res
}

func (h *harness) inbox(phone string) []sim.PhoneMessage {
	var msgs []sim.PhoneMessage
	h.simctl("GET", "/phones/"+url.PathEscape(phone)+"/messages", nil, &msgs)
	return msgs
}

// expect waits until a phone has received n messages, the last containing
// want, and returns its body. The wait is bounded; it asserts an outcome,
// never a duration.
func (h *harness) expect(phone string, n int, want string) string {
	h.t.Helper()
	var msgs []sim.PhoneMessage
	h.eventually(fmt.Sprintf("%s to receive message %d containing %q", phone, n, want), func() bool {
		msgs = h.inbox(phone)
		return len(msgs) >= n
	})
	if len(msgs) != n {
		h.t.Fatalf("%s received %d messages, want %d: %s", phone, len(msgs), n, bodies(msgs))
	}
	if got := msgs[n-1].Body; !strings.Contains(got, want) {
		h.t.Fatalf("message %d to %s is %q, want it to contain %q (all: %s)", n, phone, got, want, bodies(msgs))
	}
	return msgs[n-1].Body
}

func bodies(msgs []sim.PhoneMessage) string {
	var b []string
	for _, m := range msgs {
		b = append(b, fmt.Sprintf("%q", m.Body))
	}
	return strings.Join(b, ", ")
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("gave up waiting for %s", what)
		}
		<-tick.C
	}
}

// conv returns the newest conversation of a phone with its history.
func (h *harness) conv(phone string) (engine.State, []workflows.HistoryEntry) {
	h.t.Helper()
	var list struct {
		Conversations []engine.State `json:"conversations"`
	}
	h.admin("GET", "/conversations?phone="+url.QueryEscape(phone), nil, &list)
	if len(list.Conversations) == 0 {
		h.t.Fatalf("no conversation for %s", phone)
	}
	var cv struct {
		State   engine.State             `json:"state"`
		History []workflows.HistoryEntry `json:"history"`
	}
	h.admin("GET", "/conversations/"+list.Conversations[0].ID, nil, &cv)
	return cv.State, cv.History
}

func (h *harness) phase(phone string, want engine.Phase) {
	h.t.Helper()
	var got engine.Phase
	h.eventually(fmt.Sprintf("%s's conversation to be %s", phone, want), func() bool {
		st, _ := h.conv(phone)
		got = st.Phase
		return got == want
	})
}

// succeededCharges counts charges that went through at the gateway.
func (h *harness) succeededCharges() []sim.ChargeRecord {
	var out []sim.ChargeRecord
	for _, c := range h.world.Gateway.Charges() {
		if c.Status == "succeeded" {
			out = append(out, c)
		}
	}
	return out
}

// bayPaidUntil is what the simulated meter shows for a bay.
func (h *harness) bayPaidUntil(meterID, bay string) time.Time {
	s, ok := h.world.Fleet.Get(meterID)
	if !ok {
		h.t.Fatalf("no meter %s", meterID)
	}
	for _, b := range s.Bays {
		if b.Bay == bay {
			return b.PaidUntil
		}
	}
	return time.Time{}
}

// appliedRenewals counts renew commands the meter applied.
func (h *harness) appliedRenewals(meterID string) int {
	s, _ := h.world.Fleet.Get(meterID)
	n := 0
	for _, id := range s.Applied {
		if strings.Contains(id, ":renew:") {
			n++
		}
	}
	return n
}
