package sms_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"ppprenew/sms"
	"ppprenew/workflows"
	"ppprenew/workflows/carrier"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

// fakeTwilio accepts Messages.json posts as Twilio does (ValidityPeriod
// must be 1 to 36000) and records each one's ValidityPeriod.
type fakeTwilio struct {
	mu       sync.Mutex
	validity []int // -1 when the post had none
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	v := -1
	if s := r.PostForm.Get("ValidityPeriod"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 36000 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"code":21609,"message":"ValidityPeriod must be between 1 and 36000","status":400}`)
			return
		}
		v = n
	}
	f.mu.Lock()
	f.validity = append(f.validity, v)
	n := len(f.validity)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid":"SM%032d","status":"queued"}`, n)
}

func (f *fakeTwilio) posts() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.validity...)
}

// validityEnv is an SMS sender on a real Redis, talking HTTP to fakeTwilio,
// on a clock the test sets.
type validityEnv struct {
	set    *engine.Settings
	sender *sms.Sender
	twilio *fakeTwilio
	mu     sync.Mutex
	now    time.Time
}

func (v *validityEnv) Now() time.Time { v.mu.Lock(); defer v.mu.Unlock(); return v.now }
func (v *validityEnv) setNow(t time.Time) {
	v.mu.Lock()
	v.now = t
	v.mu.Unlock()
}

func newValidityEnv(t *testing.T) *validityEnv {
	t.Helper()
	rdb := redistest.Client(t, redistest.DBSMS)
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	v := &validityEnv{set: set, twilio: &fakeTwilio{}, now: time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(v.twilio)
	t.Cleanup(srv.Close)
	cfg := carrier.DefaultConfig()
	cfg.AccountSID, cfg.AuthToken, cfg.BaseURL = "AC00000000000000000000000000000000", "0123456789abcdef0123456789abcdef", srv.URL
	scfg := sms.DefaultConfig()
	scfg.From, scfg.PublicURL, scfg.PerSecond = "+85258001000", public, 0
	v.sender = &sms.Sender{Config: scfg, Client: carrier.NewRestClient(cfg), Redis: rdb, Registry: workflows.NewRegistry(rdb, v.Now),
		Metrics: sms.NewMetrics(), Now: v.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return v
}

// noticeText opens a conversation for a driver with their own lead time and
// fires its notice; it returns the notice text and the paid-until time.
func (v *validityEnv) noticeText(t *testing.T, txn string, lead, paid time.Duration) (engine.Effect, time.Time) {
	t.Helper()
	start := v.Now()
	u := engine.User{ID: "u-1", Phone: phone, Language: "en", CardToken: "tok", CardLast4: "4242", CardKind: engine.CardCredit,
		LeadTime: lead, Channels: []string{engine.ChannelSMS}}
	st, _ := engine.Open(v.set, u, engine.PaymentInput{TxnID: txn, MeterID: "M1", Bay: "1", PaidAt: start, PaidUntil: start.Add(paid)},
		engine.Facts{Known: true}, start)
	tm := st.Timers[engine.TimerNotice]
	_, effects := engine.Step(v.set, st, engine.Input{Kind: engine.InputTimer,
		Timer: &engine.TimerInput{Kind: engine.TimerNotice, ID: tm.ID}}, tm.At)
	for _, e := range effects {
		if e.Send != nil && e.Send.Template == "notice" && e.Send.Channel == engine.ChannelSMS {
			return e, st.PaidUntil
		}
	}
	t.Fatalf("no SMS notice in %+v", effects)
	return engine.Effect{}, time.Time{}
}

// TestSMSNoticeIsNeverValidPastThePaidTime is the property end to end, from
// the engine's notice to the ValidityPeriod Twilio receives: for every lead
// time the settings allow, minute by minute, and for several delays between
// the notice and its sending (the send task waiting in the queue), the
// carrier may never hold the text past the paid-until time. When less than
// Twilio's minimum of one second is left, nothing is posted and the send
// fails permanently, so the conversation hears of it.
func TestSMSNoticeIsNeverValidPastThePaidTime(t *testing.T) {
	v := newValidityEnv(t)
	ctx := context.Background()
	r := v.set.LeadTimeRange
	n := 0
	for lead := r.Min; lead <= r.Max; lead += time.Minute {
		for _, paid := range []time.Duration{lead + 20*time.Minute, lead + 30*time.Second, 2 * time.Hour, lead - time.Minute} {
			delays := []time.Duration{0, 999 * time.Millisecond, 30 * time.Second, lead * 3 / 4, lead - 1500*time.Millisecond,
				lead - time.Second, lead - 500*time.Millisecond, lead, lead + time.Minute}
			for _, delay := range delays {
				n++
				start := time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC).Add(time.Duration(n) * 3 * time.Hour)
				v.setNow(start)
				e, paidUntil := v.noticeText(t, "T"+strconv.Itoa(n), lead, paid)
				sentAt := start.Add(paid - lead)
				if sentAt.Before(start) {
					sentAt = start
				}
				sentAt = sentAt.Add(delay)
				v.setNow(sentAt)
				before := len(v.twilio.posts())
				err := v.sender.Send(ctx, workflows.SendRequest{Conv: "c-" + strconv.Itoa(n), EffectID: e.ID, Send: *e.Send})
				posts := v.twilio.posts()
				name := fmt.Sprintf("lead %s paid %s sent %s after the notice (%s before the paid time ends)", lead, paid, delay, paidUntil.Sub(sentAt))
				if paidUntil.Sub(sentAt) < time.Second {
					var se *workflows.SendError
					if len(posts) != before || !errors.As(err, &se) || se.Retryable() {
						t.Fatalf("%s: posted %d, err %v; want nothing posted and a permanent failure", name, len(posts)-before, err)
					}
					continue
				}
				if err != nil || len(posts) != before+1 {
					t.Fatalf("%s: err %v, %d posts", name, err, len(posts)-before)
				}
				got := posts[len(posts)-1]
				if got < 1 || sentAt.Add(time.Duration(got)*time.Second).After(paidUntil) {
					t.Fatalf("%s: ValidityPeriod %d s reaches %s, past the paid time %s", name, got,
						sentAt.Add(time.Duration(got)*time.Second).Format("15:04:05.000"), paidUntil.Format("15:04:05.000"))
				}
				if want := int(paidUntil.Sub(sentAt) / time.Second); got != min(want, 36000) {
					t.Fatalf("%s: ValidityPeriod %d s, want the %d whole seconds left", name, got, want)
				}
			}
		}
	}
}

// With the operator's 10-minute lead time and the driver's 5 minutes, the
// notice used to leave with 450 s of validity (three quarters of the
// operator's lead time) although only 300 s of paid time were left.
func TestSMSNoticeWithAFiveMinuteLeadTime(t *testing.T) {
	v := newValidityEnv(t)
	e, paidUntil := v.noticeText(t, "T1", 5*time.Minute, 30*time.Minute)
	v.setNow(paidUntil.Add(-5 * time.Minute))
	if err := v.sender.Send(context.Background(), workflows.SendRequest{Conv: "c-1", EffectID: e.ID, Send: *e.Send}); err != nil {
		t.Fatal(err)
	}
	if got := v.twilio.posts(); len(got) != 1 || got[0] != 300 {
		t.Fatalf("ValidityPeriod %v, want [300] (the five minutes left)", got)
	}
}
