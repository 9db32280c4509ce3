package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/push"
	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
	"ppprenew/workflows/workflowstest"
)

const (
	phone1   = "+85291234567"
	phone2   = "+85291234568"
	apnTopic = "hk.ppp.app"
)

// clock is a settable clock shared by the runner, the API and the sender.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// env is a server (runner, app API, push sender) wired to the push
// simulator, on a real Redis.
type env struct {
	t       *testing.T
	rdb     *redis.Client
	clock   *clock
	runner  *workflows.Runner
	queue   *workflowstest.Queue
	devices *push.Devices
	api     *push.AppAPI
	sender  *push.Sender
	fcm     *push.FCM
	apns    *push.APNs
	sim     *sim.PushSim
	server  *httptest.Server
	log     *slog.Logger
}

func newEnv(t *testing.T, mutate ...func(*push.Config)) *env {
	t.Helper()
	ctx := context.Background()
	v := &env{t: t, rdb: redistest.Client(t, redistest.DBPush),
		clock: &clock{t: time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	v.runner = &workflows.Runner{Settings: set, Store: workflows.NewStore(v.rdb), Registry: workflows.NewRegistry(v.rdb, v.clock.Now),
		Now: v.clock.Now, Log: v.log}
	v.queue = workflowstest.NewQueue(v.rdb)
	for _, u := range []engine.User{
		{ID: "u-1", Phone: phone1, Language: "en", CardToken: "tok_a", CardLast4: "4242", CardKind: engine.CardCredit},
		{ID: "u-2", Phone: phone2, Language: "zh-HK", CardToken: "tok_b", CardLast4: "1881", CardKind: engine.CardCredit},
	} {
		if err := v.runner.Registry.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	// The simulator: fake FCM on its Echo, fake APNs on its own TLS port.
	simEcho := echo.New()
	simSrv := httptest.NewServer(simEcho)
	t.Cleanup(simSrv.Close)
	pcfg := sim.DefaultPushConfig()
	pcfg.SimURL, pcfg.APNsTopic, pcfg.Logger = simSrv.URL, apnTopic, v.log
	pcfg.AppRetryDelay = time.Millisecond
	v.sim = sim.NewPushSim(pcfg)
	t.Cleanup(v.sim.Close)
	v.sim.Register(simEcho)

	fcfg := push.DefaultFCMConfig()
	fcfg.ProjectID, fcfg.Endpoint = v.sim.FCMProject(), v.sim.FCMBase()
	if v.fcm, err = push.NewFCM(ctx, fcfg); err != nil {
		t.Fatal(err)
	}
	acfg := push.DefaultAPNsConfig()
	acfg.Host, acfg.Topic, acfg.RootCAs = v.sim.APNsURL(), apnTopic, v.sim.CertPool()
	if v.apns, err = push.NewAPNs(acfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.apns.Close)

	cfg := push.DefaultConfig()
	for _, m := range mutate {
		m(&cfg)
	}
	v.devices = push.NewDevices(v.rdb, cfg.MaxDevices)
	v.api = &push.AppAPI{Config: cfg, Conversations: v.runner, Settings: set, Devices: v.devices, Redis: v.rdb, Now: v.clock.Now, Log: v.log}
	v.sender = &push.Sender{Config: cfg, Providers: map[push.Platform]push.Provider{push.PlatformFCM: v.fcm, push.PlatformAPNs: v.apns},
		Devices: v.devices, Conversations: v.runner, Redis: v.rdb, Now: v.clock.Now, Log: v.log}
	e := echo.New()
	v.api.Register(e.Group("/app/v1"))
	v.server = httptest.NewServer(e)
	t.Cleanup(v.server.Close)
	return v
}

// token issues an app bearer token for a user.
func (v *env) token(user string) string {
	v.t.Helper()
	tok, err := v.api.IssueToken(context.Background(), user)
	if err != nil {
		v.t.Fatal(err)
	}
	return tok
}

// reply is one HTTP answer of the app API.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// errorCode returns the error code of an error answer.
func (r reply) errorCode() string {
	var e push.APIError
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do calls the app API with a bearer token ("" for none) and an
// Idempotency-Key ("" for none).
func (v *env) do(method, path, bearer, key, body string) reply {
	v.t.Helper()
	req, err := http.NewRequest(method, v.server.URL+"/app/v1"+path, bytes.NewBufferString(body))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

// offered opens a conversation for a user's card at a bay and fires its
// notice, so it waits for an answer.
func (v *env) offered(card, txn, bay string) string {
	v.t.Helper()
	ctx := context.Background()
	now := v.clock.Now()
	id, err := v.runner.RecordPayment(ctx, engine.PaymentInput{TxnID: txn, MeterID: "M1", Bay: bay, Location: "Des Voeux Rd",
		CardToken: card, PaidAt: now, PaidUntil: now.Add(30 * time.Minute)})
	if err != nil {
		v.t.Fatal(err)
	}
	st := v.state(id)
	v.clock.Set(st.Timers[engine.TimerNotice].At)
	if _, err := v.runner.Apply(ctx, id, engine.Input{Kind: engine.InputTimer, Timer: &engine.TimerInput{Kind: engine.TimerNotice, ID: st.Timers[engine.TimerNotice].ID}}); err != nil {
		v.t.Fatal(err)
	}
	if p := v.state(id).Phase; p != engine.PhaseOffered {
		v.t.Fatalf("conversation %s is %s, want offered", id, p)
	}
	return id
}

func (v *env) state(id string) engine.State {
	v.t.Helper()
	st, err := v.runner.Store.Get(context.Background(), id)
	if err != nil {
		v.t.Fatal(err)
	}
	return st
}

// replies counts the driver replies in a conversation's history.
func (v *env) replies(id string) int {
	v.t.Helper()
	h, err := v.runner.Store.History(context.Background(), id)
	if err != nil {
		v.t.Fatal(err)
	}
	n := 0
	for _, e := range h {
		if bytes.HasPrefix([]byte(e.Input), []byte("reply ")) {
			n++
		}
	}
	return n
}

// charges returns the charge effects enqueued so far.
func (v *env) charges() []engine.Effect {
	var out []engine.Effect
	for _, e := range v.queue.Effects() {
		if e.Charge != nil {
			out = append(out, e)
		}
	}
	return out
}

// expectedInline is what the engine says inline to an app answer in the
// conversation's current state: Step is pure, so it is computed directly.
func (v *env) expectedInline(id string, a engine.Answer) []string {
	v.t.Helper()
	st := v.state(id)
	facts, err := v.runner.Registry.Facts(context.Background(), st.UserID, st.Phone, st.CardToken)
	if err != nil {
		v.t.Fatal(err)
	}
	_, effects := engine.Step(v.runner.Settings, st, engine.Input{Kind: engine.InputReply,
		Reply: &engine.ReplyInput{Answer: a, Channel: engine.ChannelApp}, Facts: facts}, v.clock.Now())
	return push.InlineTexts(effects)
}

// fcmToken and apnsToken are well-formed device tokens.
func fcmToken(n string) string { return "dGVzdC1pbnN0YW5jZQ:APA91b-test-device-" + n }
func apnsToken(n string) string {
	return "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f" + n
}
