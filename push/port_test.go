package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/push"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// fakeConversations is a hand-written workflows.Conversations: it holds
// conversations and drivers in memory, answers replies with what the test
// set, and records every call made to it.
type fakeConversations struct {
	mu     sync.Mutex
	convs  map[string]engine.State
	users  map[string]engine.User
	open   map[string][]string
	reply  engine.State
	spoken []engine.Effect
	calls  []string
}

var _ workflows.Conversations = (*fakeConversations)(nil)

func (f *fakeConversations) record(format string, a ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

func (f *fakeConversations) ReplyTo(_ context.Context, id string, a engine.Answer, channel string, cond func(engine.State) bool) (engine.State, []engine.Effect, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ReplyTo %s %s %s cond=%t", id, a, channel, cond != nil)
	st, ok := f.convs[id]
	if !ok {
		return engine.State{}, nil, workflows.ErrNotFound
	}
	if cond != nil && !cond(st) {
		return st, nil, workflows.ErrPrecondition
	}
	f.convs[id] = f.reply
	return f.reply, f.spoken, nil
}

func (f *fakeConversations) ChannelEvent(_ context.Context, id string, ev engine.Input) (engine.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("ChannelEvent %s %s", id, ev.Kind)
	return f.convs[id], nil
}

func (f *fakeConversations) Conversation(_ context.Context, id string) (engine.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Conversation %s", id)
	st, ok := f.convs[id]
	if !ok {
		return engine.State{}, workflows.ErrNotFound
	}
	return st, nil
}

func (f *fakeConversations) OpenConversations(_ context.Context, phone string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("OpenConversations %s", engine.MaskPhone(phone))
	return f.open[phone], nil
}

func (f *fakeConversations) OpenAtBay(_ context.Context, bay string, _ func(string) bool) (engine.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("OpenAtBay %s", bay)
	return engine.State{}, workflows.ErrNotFound
}

func (f *fakeConversations) Driver(_ context.Context, id string) (engine.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("Driver %s", id)
	u, ok := f.users[id]
	if !ok {
		return engine.User{}, workflows.ErrNotFound
	}
	return u, nil
}

func (f *fakeConversations) DriverByPhone(_ context.Context, phone string) (engine.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("DriverByPhone %s", engine.MaskPhone(phone))
	for _, u := range f.users {
		if u.Phone == phone {
			return u, nil
		}
	}
	return engine.User{}, workflows.ErrNotFound
}

func (f *fakeConversations) UpdatePreferences(_ context.Context, id string, change func(*engine.User)) (engine.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("UpdatePreferences %s", id)
	u, ok := f.users[id]
	if !ok {
		return engine.User{}, workflows.ErrNotFound
	}
	change(&u)
	f.users[id] = u
	return u, nil
}

func (f *fakeConversations) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// The app API answers through the port alone: an answer is one reply on the
// app channel and comes back with the conversation's inline messages; a
// renewal naming another quote is refused by the port's condition and
// charges nothing; preferences are changed through the port. The API's own
// tokens, rate limit and idempotency keys are kept in an in-process Redis.
func TestAppAgainstFakeConversations(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)
	paid := now.Add(5 * time.Minute)
	fake := &fakeConversations{
		users: map[string]engine.User{"u-1": {ID: "u-1", Phone: phone1, Language: "en", CardToken: "tok_a"}},
		convs: map[string]engine.State{"c-1": {ID: "c-1", Version: 4, Phase: engine.PhaseOffered, UserID: "u-1", Phone: phone1,
			MeterID: "M1", Bay: "7", Location: "Des Voeux Rd", PaidUntil: paid}},
		open: map[string][]string{phone1: {"c-1"}},
	}
	cfg := push.DefaultConfig()
	api := &push.AppAPI{Config: cfg, Conversations: fake, Settings: set, Devices: push.NewDevices(rdb, cfg.MaxDevices), Redis: rdb,
		Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e := echo.New()
	api.Register(e.Group("/app/v1"))
	tok, err := api.IssueToken(ctx, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.takeCalls(); !slices.Equal(got, []string{"Driver u-1"}) {
		t.Fatalf("issuing a token made port calls %q", got)
	}
	do := func(method, path, key, body string) (int, []byte) {
		t.Helper()
		req := httptest.NewRequest(method, "/app/v1"+path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}

	// The sessions list is the driver's open conversations, read through the port.
	code, body := do("GET", "/sessions", "", "")
	var list push.SessionsResponse
	if err := json.Unmarshal(body, &list); err != nil || code != 200 || len(list.Sessions) != 1 || list.Sessions[0].ID != "c-1" ||
		!list.Sessions[0].GraceEnd.Equal(paid.Add(set.GracePeriod)) {
		t.Fatalf("sessions %d %s", code, body)
	}
	if got, want := fake.takeCalls(), []string{"Driver u-1", "OpenConversations " + engine.MaskPhone(phone1), "Conversation c-1"}; !slices.Equal(got, want) {
		t.Fatalf("port calls %q, want %q", got, want)
	}

	// Answer 2: one reply on the app channel, the inline answer returned.
	alert := fake.convs["c-1"]
	alert.Phase, alert.Version = engine.PhaseAlertSet, 5
	fake.reply = alert
	fake.spoken = []engine.Effect{{Kind: engine.EffectSend, Send: &engine.Send{Channel: engine.ChannelApp, Template: "alert_scheduled", Body: "We will remind you at 04:20.", Inline: true}}}
	code, body = do("POST", "/sessions/c-1/answer", "k-1", `{"answer":"2"}`)
	var res push.AnswerResponse
	if err := json.Unmarshal(body, &res); err != nil || code != 200 || res.Phase != engine.PhaseAlertSet || !res.Changed ||
		!slices.Equal(res.Messages, []string{"We will remind you at 04:20."}) {
		t.Fatalf("answer %d %s", code, body)
	}
	if got := fake.takeCalls(); !slices.Equal(got, []string{"Conversation c-1", "ReplyTo c-1 2 app cond=false"}) {
		t.Fatalf("port calls %q, want the session checked and one reply", got)
	}
	// The same request again is answered from its idempotency key.
	if code2, body2 := do("POST", "/sessions/c-1/answer", "k-1", `{"answer":"2"}`); code2 != code || !bytes.Equal(body2, body) || len(fake.takeCalls()) != 0 {
		t.Fatalf("replayed answer %d %s reached the port", code2, body2)
	}

	// A renewal naming another quote than the open one: the port's
	// condition refuses it, nothing is confirmed.
	quoted := fake.convs["c-1"]
	quoted.Phase, quoted.Quote = engine.PhaseQuoted, &engine.Quote{Amount: 1000, Currency: "HKD", From: paid, Until: paid.Add(30 * time.Minute), ChargeKey: "q-open"}
	fake.convs["c-1"] = quoted
	code, body = do("POST", "/sessions/c-1/renew", "k-2", `{"quote_id":"q-other"}`)
	var conflict push.QuoteConflict
	if err := json.Unmarshal(body, &conflict); err != nil || code != http.StatusConflict || conflict.Error.Code != "quote_changed" || conflict.Quote == nil || conflict.Quote.ID != "q-open" {
		t.Fatalf("renew with another quote %d %s", code, body)
	}
	if got := fake.takeCalls(); !slices.Equal(got, []string{"Conversation c-1", "ReplyTo c-1 yes app cond=true"}) {
		t.Fatalf("port calls %q, want one conditional yes", got)
	}
	if fake.convs["c-1"].Phase != engine.PhaseQuoted {
		t.Fatalf("the refused renewal moved the conversation to %s", fake.convs["c-1"].Phase)
	}

	// Preferences change through the port, and only the driver's own choices.
	code, body = do("PUT", "/preferences", "", `{"language":"zh-HK","channels":["sms"],"lead_time":"15m"}`)
	if code != 200 {
		t.Fatalf("preferences %d %s", code, body)
	}
	if got := fake.takeCalls(); !slices.Equal(got, []string{"UpdatePreferences u-1"}) {
		t.Fatalf("port calls %q, want one preferences update", got)
	}
	if u := fake.users["u-1"]; u.Language != "zh-HK" || !slices.Equal(u.Channels, []string{"sms"}) || u.LeadTime != 15*time.Minute || u.Phone != phone1 {
		t.Fatalf("driver after preferences %+v", u)
	}
}
