package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/push"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/workflowstest"
)

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
	fake := workflowstest.NewConversations()
	fake.Users = map[string]engine.User{"u-1": {ID: "u-1", Phone: phone1, Language: "en", CardToken: "tok_a"}}
	fake.Convs = map[string]engine.State{"c-1": {ID: "c-1", Version: 4, Phase: engine.PhaseOffered, UserID: "u-1", Phone: phone1,
		MeterID: "M1", Bay: "7", Location: "Des Voeux Rd", PaidUntil: paid}}
	fake.Open = map[string][]string{phone1: {"c-1"}}
	cfg := push.DefaultConfig()
	api := &push.AppAPI{Config: cfg, Conversations: fake, Settings: set, Devices: push.NewDevices(rdb, cfg.MaxDevices), Redis: rdb,
		Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e := echo.New()
	api.Register(e.Group("/app/v1"))
	tok, err := api.IssueToken(ctx, "u-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.TakeCalls(); !slices.Equal(got, []string{"Driver u-1"}) {
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
	if got, want := fake.TakeCalls(), []string{"Driver u-1", "OpenConversations " + engine.MaskPhone(phone1), "Conversation c-1"}; !slices.Equal(got, want) {
		t.Fatalf("port calls %q, want %q", got, want)
	}

	// Answer 2: one reply on the app channel, the inline answer returned.
	alert := fake.Convs["c-1"]
	alert.Phase, alert.Version = engine.PhaseAlertSet, 5
	fake.Reply = alert
	fake.Spoken = []engine.Effect{{Kind: engine.EffectSend, Send: &engine.Send{Channel: engine.ChannelApp, Template: "alert_scheduled", Body: "We will remind you at 04:20.", Inline: true}}}
	code, body = do("POST", "/sessions/c-1/answer", "k-1", `{"answer":"2"}`)
	var res push.AnswerResponse
	if err := json.Unmarshal(body, &res); err != nil || code != 200 || res.Phase != engine.PhaseAlertSet || !res.Changed ||
		!slices.Equal(res.Messages, []string{"We will remind you at 04:20."}) {
		t.Fatalf("answer %d %s", code, body)
	}
	if got := fake.TakeCalls(); !slices.Equal(got, []string{"Conversation c-1", "ReplyTo c-1 2 app cond=false"}) {
		t.Fatalf("port calls %q, want the session checked and one reply", got)
	}
	// The same request again is answered from its idempotency key.
	if code2, body2 := do("POST", "/sessions/c-1/answer", "k-1", `{"answer":"2"}`); code2 != code || !bytes.Equal(body2, body) || len(fake.TakeCalls()) != 0 {
		t.Fatalf("replayed answer %d %s reached the port", code2, body2)
	}

	// A renewal naming another quote than the open one: the port's
	// condition refuses it, nothing is confirmed.
	quoted := fake.Convs["c-1"]
	quoted.Phase, quoted.Quote = engine.PhaseQuoted, &engine.Quote{Amount: 1000, Currency: "HKD", From: paid, Until: paid.Add(30 * time.Minute), ChargeKey: "q-open"}
	fake.Convs["c-1"] = quoted
	code, body = do("POST", "/sessions/c-1/renew", "k-2", `{"quote_id":"q-other"}`)
	var conflict push.QuoteConflict
	if err := json.Unmarshal(body, &conflict); err != nil || code != http.StatusConflict || conflict.Error.Code != "quote_changed" || conflict.Quote == nil || conflict.Quote.ID != "q-open" {
		t.Fatalf("renew with another quote %d %s", code, body)
	}
	if got := fake.TakeCalls(); !slices.Equal(got, []string{"Conversation c-1", "ReplyTo c-1 yes app cond=true"}) {
		t.Fatalf("port calls %q, want one conditional yes", got)
	}
	if fake.Convs["c-1"].Phase != engine.PhaseQuoted {
		t.Fatalf("the refused renewal moved the conversation to %s", fake.Convs["c-1"].Phase)
	}

	// Preferences change through the port, and only the driver's own choices.
	code, body = do("PUT", "/preferences", "", `{"language":"zh-HK","channels":["sms"],"lead_time":"15m"}`)
	if code != 200 {
		t.Fatalf("preferences %d %s", code, body)
	}
	if got := fake.TakeCalls(); !slices.Equal(got, []string{"UpdatePreferences u-1"}) {
		t.Fatalf("port calls %q, want one preferences update", got)
	}
	if u := fake.Users["u-1"]; u.Language != "zh-HK" || !slices.Equal(u.Channels, []string{"sms"}) || u.LeadTime != 15*time.Minute || u.Phone != phone1 {
		t.Fatalf("driver after preferences %+v", u)
	}
}
