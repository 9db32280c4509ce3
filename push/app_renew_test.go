package push_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"

	"ppprenew/push"
	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/payment"
)

// gateway is the simulated payment gateway behind the real HTTP client and
// the charge task handler; posts counts the charge requests that reached it.
type gateway struct {
	posts atomic.Int64
	mux   *asynq.ServeMux
	done  map[string]bool
}

func (v *env) withGateway() *gateway {
	v.t.Helper()
	g := &gateway{mux: asynq.NewServeMux(), done: map[string]bool{}}
	sg := sim.NewGateway(sim.Config{Clock: v.clock.Now, Logger: v.log})
	for _, tok := range []string{"tok_a", "tok_b"} {
		if _, err := sg.AddCard(sim.Card{Token: tok, Kind: sim.CardCredit, Last4: "4242"}); err != nil {
			v.t.Fatal(err)
		}
	}
	e := echo.New()
	sg.Register(e)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/pay/v1/charges" {
			g.posts.Add(1)
		}
		e.ServeHTTP(w, r)
	}))
	v.t.Cleanup(srv.Close)
	cfg := payment.DefaultConfig()
	cfg.BaseURL, cfg.APIKey = srv.URL+"/pay", sim.DefaultConfig().GatewayAPIKey
	(&workflows.Handlers{Runner: v.runner, Gateway: payment.NewHTTPGateway(cfg, nil), Log: v.log}).Register(g.mux)
	return g
}

// settle carries out, once each, the charge effects enqueued so far, as
// the task worker would, and returns the charge requests at the gateway.
func (g *gateway) settle(v *env, conv string) int64 {
	v.t.Helper()
	for _, e := range v.charges() {
		if g.done[e.ID] {
			continue
		}
		g.done[e.ID] = true
		b, _ := json.Marshal(map[string]any{"conv": conv, "effect": e})
		if err := g.mux.ProcessTask(context.Background(), asynq.NewTask(workflows.TaskCharge, b)); err != nil {
			v.t.Fatalf("charge %s: %v", e.ID, err)
		}
	}
	return g.posts.Load()
}

// conflict decodes a 409 answer that carries the open quote.
func conflict(t *testing.T, r reply, code string) push.QuoteConflict {
	t.Helper()
	var c push.QuoteConflict
	r.json(t, &c)
	if r.status != http.StatusConflict || c.Error.Code != code || c.Quote == nil || c.Quote.ID == "" || c.Quote.AmountMinor <= 0 ||
		c.Session.Quote == nil || *c.Session.Quote != *c.Quote {
		t.Fatalf("%d %s, want 409 %s with the open quote", r.status, r.body, code)
	}
	return c
}

// An app that renews without naming the quote it showed is answered with
// the quote, and nothing reaches the payment gateway.
func TestAppRenewWithoutAQuoteChargesNothing(t *testing.T) {
	v := newEnv(t)
	gw := v.withGateway()
	conv := v.offered("tok_a", "T1", "7")
	tok := v.token("u-1")
	path := "/sessions/" + conv + "/renew"
	want := v.expectedInline(conv, engine.AnswerOne)

	r := v.do("POST", path, tok, "renew-1", `{}`)
	c := conflict(t, r, "quote_required")
	st := v.state(conv)
	if st.Phase != engine.PhaseQuoted || c.Quote.ID != st.Quote.ChargeKey || c.Quote.AmountMinor != int64(st.Quote.Amount) ||
		!c.Quote.Until.Equal(st.Quote.Until) || !c.Quote.ValidUntil.Equal(st.GraceEnd(v.runner.Settings)) {
		t.Fatalf("quote %+v for conversation %s %+v", c.Quote, st.Phase, st.Quote)
	}
	if strings.Join(c.Messages, "|") != strings.Join(want, "|") {
		t.Fatalf("messages %q, want the quote %q", c.Messages, want)
	}
	if again := v.do("POST", path, tok, "renew-1", `{}`); again.status != 409 || string(again.body) != string(r.body) ||
		again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s, want the 409 replayed", again.status, again.body)
	}
	// Now quoted: an empty body, or one naming nothing, still charges nothing.
	for i, body := range []string{``, `{}`, `{"amount_minor":` + fmt.Sprint(c.Quote.AmountMinor) + `}`, `{"currency":"HKD"}`} {
		conflict(t, v.do("POST", path, tok, fmt.Sprintf("renew-empty-%d", i), body), "quote_required")
	}
	if n := gw.settle(v, conv); n != 0 || len(v.charges()) != 0 {
		t.Fatalf("%d charge requests at the gateway (%d enqueued), want none", n, len(v.charges()))
	}
	if st := v.state(conv); st.Phase != engine.PhaseQuoted || st.Attempts != 1 {
		t.Fatalf("conversation %s with %d quotes, want the one quote open", st.Phase, st.Attempts)
	}
	if r := v.do("POST", path, tok, "renew-bad", `{"quote_id":`); r.status != 400 || r.errorCode() != "invalid_json" {
		t.Fatalf("bad JSON: %d %s", r.status, r.body)
	}
}

// The app gets the quote (POST .../quote), shows it and confirms it by id:
// the card is charged once, however often the request is retried.
func TestAppRenewConfirmingTheShownQuoteChargesOnce(t *testing.T) {
	v := newEnv(t)
	gw := v.withGateway()
	conv := v.offered("tok_a", "T1", "7")
	tok := v.token("u-1")
	var quoted push.AnswerResponse
	r := v.do("POST", "/sessions/"+conv+"/quote", tok, "quote-1", ``)
	r.json(t, &quoted)
	if r.status != 200 || quoted.Phase != engine.PhaseQuoted || quoted.Session.Quote == nil || len(quoted.Messages) == 0 {
		t.Fatalf("quote: %d %s", r.status, r.body)
	}
	q := quoted.Session.Quote
	// Asking again shows the same quote and moves nothing.
	var again push.AnswerResponse
	v.do("POST", "/sessions/"+conv+"/quote", tok, "quote-2", ``).json(t, &again)
	if again.Session.Quote == nil || *again.Session.Quote != *q || again.Changed || v.state(conv).Attempts != 1 {
		t.Fatalf("second quote %+v, want the same quote unchanged", again)
	}
	path := "/sessions/" + conv + "/renew"
	body := `{"quote_id":"` + q.ID + `"}`
	r = v.do("POST", path, tok, "renew-1", body)
	var res push.AnswerResponse
	r.json(t, &res)
	if r.status != 200 || res.Phase != engine.PhaseCharging || !res.Changed {
		t.Fatalf("renew: %d %s, want charging", r.status, r.body)
	}
	for range 2 {
		if again := v.do("POST", path, tok, "renew-1", body); again.status != 200 || string(again.body) != string(r.body) {
			t.Fatalf("retry: %d %s", again.status, again.body)
		}
	}
	if n := gw.settle(v, conv); n != 1 {
		t.Fatalf("%d charge requests at the gateway, want 1", n)
	}
	st := v.state(conv)
	if st.Phase != engine.PhaseRenewing || len(st.Renewals) != 1 || int64(st.Renewals[0].Amount) != q.AmountMinor || !st.Renewals[0].Until.Equal(q.Until) {
		t.Fatalf("conversation %s renewals %+v, want the confirmed quote renewed", st.Phase, st.Renewals)
	}
	// The same quote confirmed again with a fresh key charges nothing more.
	r = v.do("POST", path, tok, "renew-2", body)
	if r.status == 200 {
		r.json(t, &res)
	}
	if n := gw.settle(v, conv); r.status != 200 || res.Phase != engine.PhaseRenewing || n != 1 {
		t.Fatalf("confirming again: %d %s, %d gateway requests", r.status, r.body, n)
	}
}

// A renewal naming another amount, another new paid-until or an old quote
// is refused with the open quote; the amount and paid-until shown confirm.
func TestAppRenewWithAnotherQuoteIsRefused(t *testing.T) {
	v := newEnv(t)
	gw := v.withGateway()
	conv := v.offered("tok_a", "T1", "7")
	tok := v.token("u-1")
	q := conflict(t, v.do("POST", "/sessions/"+conv+"/renew", tok, "r0", `{}`), "quote_required").Quote
	until := q.Until.Format(time.RFC3339)
	path := "/sessions/" + conv + "/renew"
	for i, body := range []string{
		fmt.Sprintf(`{"amount_minor":%d,"until":%q}`, q.AmountMinor+1, until),
		fmt.Sprintf(`{"amount_minor":%d,"until":%q}`, q.AmountMinor, q.Until.Add(time.Minute).Format(time.RFC3339)),
		fmt.Sprintf(`{"amount_minor":%d,"until":%q,"currency":"USD"}`, q.AmountMinor, until),
		`{"quote_id":"` + conv + `:charge:0"}`,
		fmt.Sprintf(`{"quote_id":%q,"amount_minor":%d}`, q.ID, q.AmountMinor-1),
	} {
		c := conflict(t, v.do("POST", path, tok, fmt.Sprintf("r%d", i+1), body), "quote_changed")
		if *c.Quote != *q {
			t.Fatalf("%s: quote %+v, want the open one %+v", body, c.Quote, q)
		}
	}
	if n := gw.settle(v, conv); n != 0 {
		t.Fatalf("%d charge requests after mismatched renewals, want none", n)
	}
	// A quote that changed: cancelled in the app and quoted again.
	v.do("POST", "/sessions/"+conv+"/answer", tok, "cancel", `{"answer":"2"}`)
	var fresh push.AnswerResponse
	v.do("POST", "/sessions/"+conv+"/quote", tok, "requote", ``).json(t, &fresh)
	if fresh.Session.Quote == nil || fresh.Session.Quote.ID == q.ID {
		t.Fatalf("new quote %+v, want a new id", fresh.Session.Quote)
	}
	c := conflict(t, v.do("POST", path, tok, "r-old", `{"quote_id":"`+q.ID+`"}`), "quote_changed")
	if *c.Quote != *fresh.Session.Quote {
		t.Fatalf("quote %+v, want the new one", c.Quote)
	}
	if n := gw.settle(v, conv); n != 0 {
		t.Fatalf("%d charge requests for a quote that changed, want none", n)
	}
	r := v.do("POST", path, tok, "r-ok", fmt.Sprintf(`{"amount_minor":%d,"until":%q}`, q.AmountMinor, until))
	var res push.AnswerResponse
	r.json(t, &res)
	if r.status != 200 || res.Phase != engine.PhaseCharging {
		t.Fatalf("renew with the amount and paid-until shown: %d %s", r.status, r.body)
	}
	if n := gw.settle(v, conv); n != 1 {
		t.Fatalf("%d charge requests, want 1", n)
	}
}
