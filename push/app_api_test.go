package push_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"ppprenew/push"
	"ppprenew/workflows/engine"
)

func TestAppAuthentication(t *testing.T) {
	v := newEnv(t)
	good := v.token("u-1")
	revoked := v.token("u-1")
	if err := v.api.RevokeToken(context.Background(), revoked); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		header     string
		wantStatus int
		wantCode   string
	}{
		{"no header", "", 401, "missing_token"},
		{"not bearer", "Basic dXNlcjpwYXNz", 401, "missing_token"},
		{"empty bearer", "Bearer ", 401, "missing_token"},
		{"unknown token", "Bearer ppa_unknown", 401, "invalid_token"},
		{"revoked token", "Bearer " + revoked, 401, "invalid_token"},
		{"valid token", "Bearer " + good, 200, ""},
		{"scheme in lower case", "bearer " + good, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, v.server.URL+"/app/v1/sessions", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// Codes, through the helper that reads bodies.
	if r := v.do("POST", "/sessions/x/answer", "", "k", `{"answer":"1"}`); r.status != 401 || r.errorCode() != "missing_token" {
		t.Fatalf("answer without a token: %d %s", r.status, r.body)
	}
	if r := v.do("GET", "/sessions", "ppa_nope", "", ""); r.errorCode() != "invalid_token" {
		t.Fatalf("unknown token: %s", r.body)
	}
	if _, err := v.api.IssueToken(context.Background(), "u-404"); err == nil {
		t.Fatal("a token was issued for an unknown user")
	}
}

func TestAppTokenIsStoredOnlyAsHash(t *testing.T) {
	v := newEnv(t)
	tok := v.token("u-1")
	keys, err := v.rdb.Keys(context.Background(), "ppp:app:tok:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("token keys %v %v", keys, err)
	}
	if strings.Contains(keys[0], tok) || strings.Contains(keys[0], strings.TrimPrefix(tok, "ppa_")) {
		t.Fatal("the token itself is in the key")
	}
	if got, _ := v.rdb.Get(context.Background(), keys[0]).Result(); got != "u-1" {
		t.Fatalf("token maps to %q", got)
	}
}

func TestAppForbiddenOnAnotherUsersSession(t *testing.T) {
	v := newEnv(t)
	conv := v.offered("tok_a", "T1", "7")
	before := v.state(conv).Version
	other := v.token("u-2")
	for _, path := range []string{"/sessions/" + conv + "/answer", "/sessions/" + conv + "/renew"} {
		r := v.do("POST", path, other, "k-"+path, `{"answer":"1"}`)
		if r.status != 403 || r.errorCode() != "forbidden" {
			t.Fatalf("%s by another user: %d %s, want 403 forbidden", path, r.status, r.body)
		}
	}
	if v.state(conv).Version != before {
		t.Fatal("another user's answer moved the conversation")
	}
	var list push.SessionsResponse
	v.do("GET", "/sessions", other, "", "").json(t, &list)
	if len(list.Sessions) != 0 {
		t.Fatalf("another user sees %+v", list.Sessions)
	}
	r := v.do("POST", "/sessions/c-nope/answer", other, "k-404", `{"answer":"1"}`)
	if r.status != 404 || r.errorCode() != "session_not_found" {
		t.Fatalf("unknown session: %d %s", r.status, r.body)
	}
}

func TestAppRateLimit(t *testing.T) {
	v := newEnv(t, func(c *push.Config) { c.RatePerMinute = 3 })
	v.clock.Set(time.Date(2026, 11, 21, 4, 0, 45, 0, time.UTC))
	tok, other := v.token("u-1"), v.token("u-2")
	for i := range 3 {
		if r := v.do("GET", "/sessions", tok, "", ""); r.status != 200 {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
	}
	r := v.do("GET", "/sessions", tok, "", "")
	if r.status != 429 || r.errorCode() != "rate_limited" {
		t.Fatalf("4th request: %d %s, want 429 rate_limited", r.status, r.body)
	}
	if ra := r.header.Get("Retry-After"); ra != "15" {
		t.Fatalf("Retry-After %q, want 15 (the rest of the minute)", ra)
	}
	if r := v.do("GET", "/sessions", other, "", ""); r.status != 200 {
		t.Fatalf("another user limited too: %d", r.status)
	}
	v.clock.Set(time.Date(2026, 11, 21, 4, 1, 0, 0, time.UTC))
	if r := v.do("GET", "/sessions", tok, "", ""); r.status != 200 {
		t.Fatalf("next minute: %d", r.status)
	}
}

func TestAppAnswerIsIdempotent(t *testing.T) {
	v := newEnv(t)
	conv := v.offered("tok_a", "T1", "7")
	tok := v.token("u-1")
	wantMsgs := v.expectedInline(conv, engine.AnswerOne)
	if len(wantMsgs) == 0 {
		t.Fatal("the engine says nothing inline to an app answer")
	}
	path := "/sessions/" + conv + "/answer"
	first := v.do("POST", path, tok, "key-1", `{"answer":"1"}`)
	if first.status != 200 {
		t.Fatalf("answer: %d %s", first.status, first.body)
	}
	var res push.AnswerResponse
	first.json(t, &res)
	if res.Phase != engine.PhaseQuoted || res.Session.Phase != engine.PhaseQuoted || res.Session.Quote == nil || !res.Changed {
		t.Fatalf("answer 1: %+v, want quoted with the quote", res)
	}
	if !slices.Equal(res.Messages, wantMsgs) {
		t.Fatalf("messages %q, want the engine's inline %q", res.Messages, wantMsgs)
	}
	for range 2 {
		again := v.do("POST", path, tok, "key-1", `{"answer":"1"}`)
		if again.status != first.status || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %s (replayed %q), want the first answer replayed", again.status, again.body, again.header.Get("Idempotent-Replayed"))
		}
	}
	if n := v.replies(conv); n != 1 {
		t.Fatalf("%d replies in the history, want 1", n)
	}
	if st := v.state(conv); st.Phase != engine.PhaseQuoted || st.Attempts != 1 {
		t.Fatalf("conversation %s attempts %d, want quoted once", st.Phase, st.Attempts)
	}
	reused := v.do("POST", path, tok, "key-1", `{"answer":"2"}`)
	if reused.status != 409 || reused.errorCode() != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %s", reused.status, reused.body)
	}
	if r := v.do("POST", path, tok, "", `{"answer":"2"}`); r.status != 400 || r.errorCode() != "missing_idempotency_key" {
		t.Fatalf("no key: %d %s", r.status, r.body)
	}
	if r := v.do("POST", path, tok, "key-2", `{"answer":"maybe"}`); r.status != 400 || r.errorCode() != "invalid_answer" {
		t.Fatalf("bad answer: %d %s", r.status, r.body)
	}
	if n := v.replies(conv); n != 1 {
		t.Fatalf("%d replies after refused requests, want 1", n)
	}
	// Keys are per user: another user's key-1 is a different request.
	if r := v.do("POST", path, v.token("u-2"), "key-1", `{"answer":"1"}`); r.status != 403 {
		t.Fatalf("another user's key-1: %d, want its own answer (403)", r.status)
	}
}

func TestAppClosedSession(t *testing.T) {
	v := newEnv(t)
	conv := v.offered("tok_a", "T1", "7")
	tok := v.token("u-1")
	if r := v.do("POST", "/sessions/"+conv+"/answer", tok, "k1", `{"answer":"no"}`); r.status != 200 {
		t.Fatalf("decline: %d %s", r.status, r.body)
	}
	if p := v.state(conv).Phase; p != engine.PhaseEnded {
		t.Fatalf("phase %s after no, want ended", p)
	}
	r := v.do("POST", "/sessions/"+conv+"/answer", tok, "k2", `{"answer":"1"}`)
	if r.status != 409 || r.errorCode() != "session_closed" {
		t.Fatalf("answer to an ended session: %d %s", r.status, r.body)
	}
	var list push.SessionsResponse
	v.do("GET", "/sessions", tok, "", "").json(t, &list)
	if len(list.Sessions) != 0 {
		t.Fatalf("ended session listed: %+v", list.Sessions)
	}
}

func TestAppSessions(t *testing.T) {
	v := newEnv(t)
	conv := v.offered("tok_a", "T1", "7")
	v.offered("tok_b", "T2", "8")
	tok := v.token("u-1")
	var list push.SessionsResponse
	r := v.do("GET", "/sessions", tok, "", "")
	r.json(t, &list)
	if r.status != 200 || len(list.Sessions) != 1 {
		t.Fatalf("%d %s, want the user's one session", r.status, r.body)
	}
	s := list.Sessions[0]
	st := v.state(conv)
	if s.ID != conv || s.Meter != "M1" || s.Bay != "7" || s.Location != "Des Voeux Rd" || s.Phase != engine.PhaseOffered ||
		!s.PaidUntil.Equal(st.PaidUntil) || s.Quote != nil {
		t.Fatalf("session %+v", s)
	}
	v.do("POST", "/sessions/"+conv+"/answer", tok, "q", `{"answer":"1"}`)
	v.do("GET", "/sessions", tok, "", "").json(t, &list)
	q := list.Sessions[0].Quote
	if q == nil || q.AmountMinor <= 0 || q.Currency != "HKD" || !q.Until.After(st.PaidUntil) || !strings.HasPrefix(q.Amount, "HKD ") {
		t.Fatalf("quote %+v", q)
	}
}

func TestAppDevices(t *testing.T) {
	v := newEnv(t, func(c *push.Config) { c.MaxDevices = 2 })
	tok1, tok2 := v.token("u-1"), v.token("u-2")
	dev := fcmToken("1")
	tests := []struct {
		name       string
		bearer     string
		method     string
		path       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"register", tok1, "POST", "/devices", `{"platform":"fcm","token":"` + dev + `"}`, 201, ""},
		{"register again", tok1, "POST", "/devices", `{"platform":"fcm","token":"` + dev + `"}`, 200, ""},
		{"apns", tok1, "POST", "/devices", `{"platform":"apns","token":"` + apnsToken("01") + `"}`, 201, ""},
		{"too many", tok1, "POST", "/devices", `{"platform":"apns","token":"` + apnsToken("02") + `"}`, 409, "too_many_devices"},
		{"bad platform", tok1, "POST", "/devices", `{"platform":"sms","token":"` + dev + `"}`, 400, "invalid_platform"},
		{"bad apns token", tok1, "POST", "/devices", `{"platform":"apns","token":"xyz"}`, 400, "invalid_device_token"},
		{"bad json", tok1, "POST", "/devices", `{`, 400, "invalid_json"},
		{"remove another user's", tok2, "DELETE", "/devices/" + dev, "", 404, "device_not_found"},
		{"remove", tok1, "DELETE", "/devices/" + dev, "", 204, ""},
		{"remove again", tok1, "DELETE", "/devices/" + dev, "", 404, "device_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := v.do(tc.method, tc.path, tc.bearer, "", tc.body)
			if r.status != tc.wantStatus || (tc.wantCode != "" && r.errorCode() != tc.wantCode) {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tc.wantStatus, tc.wantCode)
			}
		})
	}
	if got := v.deviceTokens("u-1"); len(got) != 1 || got[0] != apnsToken("01") {
		t.Fatalf("u-1 devices %v", got)
	}
	// A token registered by another user moves to that user (one install,
	// one user).
	v.do("POST", "/devices", tok2, "", `{"platform":"apns","token":"`+apnsToken("01")+`"}`)
	if a, b := v.deviceTokens("u-1"), v.deviceTokens("u-2"); len(a) != 0 || len(b) != 1 {
		t.Fatalf("after the move u-1 %v u-2 %v", a, b)
	}
	var list push.DevicesResponse
	v.do("GET", "/devices", tok2, "", "").json(t, &list)
	if len(list.Devices) != 1 || list.Devices[0].Platform != push.PlatformAPNs {
		t.Fatalf("devices %+v", list)
	}
	// The registry sees the app (escalation skips push without one).
	f, err := v.runner.Registry.Facts(context.Background(), "u-2", phone2, "tok_b")
	if err != nil || !f.HasApp {
		t.Fatalf("facts %+v %v, want HasApp", f, err)
	}
}
