package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"ppprenew/sim"
	"ppprenew/workflows/engine"
)

// fastEscalation: push first, SMS 2 s later, a call 2 s after that.
// The notice is not valid past the paid time, so the lead time leaves the
// call well inside it even on a slow machine.
func fastEscalation(s *engine.Settings) {
	s.Escalation = []engine.EscalationStep{{Channel: "push"}, {Channel: "sms", After: 2 * time.Second}, {Channel: "voice", After: 2 * time.Second}}
	s.LeadTime = 12 * time.Second
}

// withApp gives a driver the simulated app and returns the app's id and
// the driver's app API token.
func (h *harness) withApp(phone string) (appID, token string) {
	h.t.Helper()
	var u struct {
		ID string `json:"id"`
	}
	h.admin("GET", "/users?phone="+phone, nil, &u)
	var tok struct {
		Token string `json:"token"`
	}
	if s := h.admin("POST", "/users/"+u.ID+"/app-token", nil, &tok); s != 201 {
		h.t.Fatalf("app token: %d", s)
	}
	var app sim.App
	if s := h.simctl("POST", "/apps", map[string]any{"phone": phone, "platform": "fcm", "app_token": tok.Token, "server_url": h.app.ServerURL()}, &app); s != 201 && s != 200 {
		h.t.Fatalf("create app: %d", s)
	}
	return app.ID, tok.Token
}

func (h *harness) appState(id string) sim.App {
	var a sim.App
	h.simctl("GET", "/apps/"+id, nil, &a)
	return a
}

func TestEscalationPushThenSMSThenCallAnsweredByKeypad(t *testing.T) {
	h := newHarnessWith(t, fastEscalation)
	card := h.driver(alice, "en", "credit", 10000)
	appID, _ := h.withApp(alice)
	h.meter("M1", "")
	h.script(alice, sim.VoiceScript{Answer: "human", Steps: press("1", "1")})
	h.tap("M1", "1", card, 20*time.Second)
	before := h.bayPaidUntil("M1", "1")
	// The driver ignores the push and the SMS, and answers the call.
	c := h.ended(alice, 1)
	if got := heard(c); !strings.Contains(got, "is renewed until") {
		t.Fatalf("call:\n%s", got)
	}
	msgs := h.inbox(alice)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Body, "Reply 1 to extend") {
		t.Fatalf("texts %s, want only the ignored notice", bodies(msgs))
	}
	var pushes []sim.Push
	h.eventually("the confirmation push", func() bool {
		pushes = h.appState(appID).Pushes
		return len(pushes) >= 2 && strings.Contains(pushes[len(pushes)-1].Body, "Renewed")
	})
	if !strings.Contains(pushes[0].Body, "Reply 1 to extend") && !strings.Contains(pushes[0].Body, "ends") {
		t.Fatalf("first push %q is not the notice", pushes[0].Body)
	}
	h.settle(time.Time{}, "M1")
	h.exactlyOnce(card, "M1")
	if got := h.bayPaidUntil("M1", "1"); !got.Equal(before.Add(30 * time.Minute)) {
		t.Fatalf("meter paid until %s", got)
	}
}

func TestEscalationAnsweredInTheAppStopsIt(t *testing.T) {
	// The SMS would follow the push after 5 s, the call 5 s later: time enough
	// for the app to answer first.
	h := newHarnessWith(t, func(s *engine.Settings) {
		s.Escalation = []engine.EscalationStep{{Channel: "push"}, {Channel: "sms", After: 5 * time.Second}, {Channel: "voice", After: 5 * time.Second}}
		s.LeadTime = 28 * time.Second // the notice 2 s after the tap, leaving the renewal the whole wait
	})
	card := h.driver(alice, "en", "credit", 10000)
	appID, _ := h.withApp(alice)
	if s := h.simctl("POST", "/apps/"+appID+"/script", map[string]any{"press": "renew", "after_ms": 200}, nil); s != 200 {
		t.Fatalf("script app: %d", s)
	}
	h.meter("M1", "")
	h.tap("M1", "1", card, 30*time.Second)
	tapped := time.Now()
	h.phase(alice, engine.PhaseParked)
	h.eventually("the renewal", func() bool {
		st, _ := h.conv(alice)
		return len(st.Renewals) == 1 && st.Renewals[0].MeterAck == "acked"
	})
	h.settle(tapped.Add(12*time.Second), "M1") // both escalation steps' timers have been handled
	if n := h.textsAccepted(alice); n != 0 {
		t.Fatalf("the carrier accepted %d texts after an app answer", n)
	}
	if msgs := h.inbox(alice); len(msgs) != 0 {
		t.Fatalf("texts after an app answer: %s", bodies(msgs))
	}
	var calls []sim.Call
	h.simctl("GET", "/phones/"+alice+"/calls", nil, &calls)
	if len(calls) != 0 {
		t.Fatalf("%d calls after an app answer", len(calls))
	}
	h.exactlyOnce(card, "M1")
}

// appPost calls one app API route of a session and returns the status and
// the body.
func (h *harness) appPost(token, conv, route, key, body string) (int, []byte) {
	req, _ := http.NewRequest("POST", h.app.ServerURL()+"/app/v1/sessions/"+conv+route, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.Bytes()
}

// appRenew renews as the app does: it gets the quote, shows it and
// confirms the quote it showed. A request still running under the same
// Idempotency-Key (a concurrent retry) is waited for.
func (h *harness) appRenew(token, conv, key string) int {
	post := func(route, key, body string) (int, []byte) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, b := h.appPost(token, conv, route, key, body)
			if code != 409 || !strings.Contains(string(b), "request_in_progress") || time.Now().After(deadline) {
				return code, b
			}
			time.Sleep(20 * time.Millisecond) // polling the server, not waiting for time to pass
		}
	}
	code, b := post("/quote", key+"-quote", "{}")
	var shown struct {
		Session struct {
			Quote *struct {
				ID string `json:"id"`
			} `json:"quote"`
		} `json:"session"`
	}
	if code != 200 || json.Unmarshal(b, &shown) != nil || shown.Session.Quote == nil {
		return code
	}
	body, _ := json.Marshal(map[string]string{"quote_id": shown.Session.Quote.ID})
	code, _ = post("/renew", key, string(body))
	return code
}

func TestRaceAnswersOnTwoChannelsChargeOnce(t *testing.T) {
	h := newHarnessWith(t, fastEscalation)
	card := h.driver(alice, "en", "credit", 10000)
	_, token := h.withApp(alice)
	h.meter("M1", "")
	h.tap("M1", "1", card, 20*time.Second)
	h.eventually("the notice", func() bool { st, _ := h.conv(alice); return st.Phase == engine.PhaseOffered })
	st, _ := h.conv(alice)
	// The app renews (twice, retrying) while the driver also answers by SMS.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = h.appRenew(token, st.ID, "k-1") }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); h.text(alice, "1", false); h.text(alice, "1", false) }()
	wg.Wait()
	h.eventually("the renewal to settle", func() bool {
		st, _ := h.conv(alice)
		return st.Phase == engine.PhaseParked || st.Phase == engine.PhaseQuoted || st.Phase == engine.PhaseOffered
	})
	h.settle(time.Time{}, "M1")
	if n := h.chargePOSTs(card); n != 1 {
		t.Fatalf("the gateway received %d charge requests after answers on two channels (app %v), want exactly 1", n, codes)
	}
	h.exactlyOnce(card, "M1")
}

func TestAppAPIAuthAndIdempotency(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000)
	h.driver(bob, "en", "credit", 10000)
	_, aliceTok := h.withApp(alice)
	_, bobTok := h.withApp(bob)
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.eventually("the notice", func() bool { st, _ := h.conv(alice); return st.Phase == engine.PhaseOffered })
	st, _ := h.conv(alice)
	if code := h.appRenew("not-a-token", st.ID, "k"); code != 401 {
		t.Fatalf("unknown token: %d, want 401", code)
	}
	if code := h.appRenew(bobTok, st.ID, "k"); code != 403 {
		t.Fatalf("someone else's session: %d, want 403", code)
	}
	// A renewal that names no quote is answered with the quote and charges
	// nothing.
	if code, b := h.appPost(aliceTok, st.ID, "/renew", "k-blind", "{}"); code != 409 || !strings.Contains(string(b), `"quote_required"`) {
		t.Fatalf("renew without a quote: %d %s, want 409 quote_required", code, b)
	}
	if n := len(h.succeededCharges()); n != 0 {
		t.Fatalf("%d charges after a renewal without a quote", n)
	}
	first := h.appRenew(aliceTok, st.ID, "k-2")
	again := h.appRenew(aliceTok, st.ID, "k-2")
	if first != 200 || again != 200 {
		t.Fatalf("renew %d then retry %d, want 200 twice", first, again)
	}
	h.eventually("one renewal", func() bool { st, _ := h.conv(alice); return len(st.Renewals) == 1 })
	h.settle(time.Time{}, "M1")
	h.exactlyOnce(card, "M1") // the retried app request with the same key charges once
}

func TestInvalidPushTokenMovesToSMSAtOnce(t *testing.T) {
	// The notice is due 10 s after the tap and its text is valid for 30 s
	// more, so a busy machine cannot let it expire before it is sent: only
	// a move to SMS an hour later, as configured without the fallback,
	// would miss it.
	h := newHarnessWith(t, func(s *engine.Settings) {
		s.Escalation = []engine.EscalationStep{{Channel: "push"}, {Channel: "sms", After: time.Hour}}
		s.LeadTime = 30 * time.Second
	})
	card := h.driver(alice, "en", "credit", 10000)
	appID, _ := h.withApp(alice)
	a := h.appState(appID)
	b, _ := json.Marshal(map[string]string{"token": a.DeviceToken})
	res, err := http.Post(h.app.SimURL()+"/sim/v1/push/invalidate", "application/json", bytes.NewReader(b))
	if err != nil || res.StatusCode >= 300 {
		t.Fatalf("invalidate: %v %v", res, err)
	}
	h.meter("M1", "")
	h.tap("M1", "1", card, 40*time.Second)
	h.expect(alice, 1, "Reply 1 to extend") // not an hour later
	var devices int
	h.eventually("the device to be removed", func() bool {
		devices = int(h.app.rdb.HLen(t.Context(), "ppp:push:dev:"+mustUserID(h, alice)).Val())
		return devices == 0
	})
}

func mustUserID(h *harness, phone string) string {
	var u struct {
		ID string `json:"id"`
	}
	h.admin("GET", "/users?phone="+phone, nil, &u)
	if u.ID == "" {
		h.t.Fatalf("no user %s", phone)
	}
	return u.ID
}

// The shipped quiet hours (22:00-07:00 in the operator's time zone) hold
// calls back, before and after midnight; at noon the same escalation calls.
func TestQuietHoursSkipTheCall(t *testing.T) {
	for _, tc := range []struct {
		name  string
		at    time.Time
		calls int
	}{
		{"late evening", time.Date(2026, time.June, 15, 23, 30, 0, 0, middayHK.Location()), 0},
		{"after midnight", time.Date(2026, time.June, 16, 3, 0, 0, 0, middayHK.Location()), 0},
		{"a minute before they end", time.Date(2026, time.June, 16, 6, 58, 0, 0, middayHK.Location()), 0},
		{"noon", middayHK, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessAt(t, tc.at, func(s *engine.Settings) {
				fastEscalation(s)
				s.Escalation = s.Escalation[1:] // sms, then voice
				if q := s.QuietHours; q.Start != "22:00" || q.End != "07:00" {
					t.Fatalf("the shipped quiet hours changed: %+v", q)
				}
			})
			card := h.driver(alice, "en", "credit", 10000)
			h.meter("M1", "")
			h.tap("M1", "1", card, 10*time.Second)
			h.expect(alice, 1, "Reply 1 to extend")
			// The call's escalation step has run once its timer is gone.
			h.eventually("the escalation step after the SMS", func() bool {
				st, _ := h.conv(alice)
				_, armed := st.Timers[engine.TimerEscalate]
				return !armed
			})
			var calls []sim.Call
			if tc.calls > 0 {
				h.eventually("the call", func() bool {
					h.simctl("GET", "/phones/"+alice+"/calls", nil, &calls)
					return len(calls) >= tc.calls
				})
			}
			h.simctl("GET", "/phones/"+alice+"/calls", nil, &calls)
			if len(calls) != tc.calls {
				t.Fatalf("%d calls at %s, want %d", len(calls), tc.at.Format("15:04 MST"), tc.calls)
			}
		})
	}
}

func TestEscalationAnsweredBySMSNoCallAndPushConfirmation(t *testing.T) {
	h := newHarnessWith(t, func(s *engine.Settings) {
		// The call would follow the SMS after 6 s: time enough to answer.
		s.Escalation = []engine.EscalationStep{{Channel: "push"}, {Channel: "sms", After: 2 * time.Second}, {Channel: "voice", After: 6 * time.Second}}
		// The notice is not valid past the paid time: leave the SMS step
		// well inside it even on a slow machine.
		s.LeadTime = 15 * time.Second
	})
	card := h.driver(alice, "en", "credit", 10000)
	appID, _ := h.withApp(alice)
	h.meter("M1", "")
	h.tap("M1", "1", card, 30*time.Second)
	h.expect(alice, 1, "Reply 1 to extend") // the SMS comes 2 s after the ignored push
	sent := time.Now()
	h.text(alice, "1", false)
	st, _ := h.conv(alice)
	if _, armed := st.Timers[engine.TimerEscalate]; armed {
		t.Fatal("the answer did not stop the escalation")
	}
	h.expect(alice, 2, "Reply 1 to confirm")
	h.text(alice, "1", false)
	h.expect(alice, 3, "Renewed")
	h.settle(sent.Add(8*time.Second), "M1") // the call's escalation timer has been handled
	var calls []sim.Call
	h.simctl("GET", "/phones/"+alice+"/calls", nil, &calls)
	if len(calls) != 0 {
		t.Fatalf("%d calls after an SMS answer", len(calls))
	}
	var pushes []sim.Push
	h.eventually("the push confirmation", func() bool {
		pushes = h.appState(appID).Pushes
		return len(pushes) > 0 && strings.Contains(pushes[len(pushes)-1].Body, "Renewed")
	})
	h.exactlyOnce(card, "M1")
}
