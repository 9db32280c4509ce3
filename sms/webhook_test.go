package sms_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/sim"
	"ppprenew/sms"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
	"ppprenew/workflows/twiliohook"
	"ppprenew/workflows/workflowstest"
)

const (
	public = "https://ppp.example.com"
	token  = "test-auth-token-0123456789abcdef"
	phone  = "+85291234567"
)

type env struct {
	e       *echo.Echo
	rdb     *redis.Client
	runner  *workflows.Runner
	queue   *workflowstest.Queue
	metrics *sms.Metrics
	now     time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := redistest.Client(t, redistest.DBSMS)
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	v := &env{rdb: rdb, queue: workflowstest.NewQueue(rdb), metrics: sms.NewMetrics(), now: time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)}
	now := func() time.Time { return v.now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v.runner = &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, now), Now: now, Log: log}
	if err := v.runner.Registry.PutUser(context.Background(), engine.User{ID: "u-1", Phone: phone, Language: "en", CardToken: "tok_a", CardLast4: "4242", CardKind: engine.CardCredit}); err != nil {
		t.Fatal(err)
	}
	v.e = echo.New()
	hook := twiliohook.DefaultConfig()
	hook.PublicURL, hook.AuthToken = public, token
	(&sms.Webhooks{Texts: v.runner, Redis: rdb, Metrics: v.metrics, Queue: v.runner.Store.Outbox(), DedupeTTL: 48 * time.Hour, Now: now, Log: log}).
		Register(v.e.Group("/twilio", twiliohook.Middleware(hook)))
	return v
}

// post sends a signed webhook and returns the status and body.
func (v *env) post(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("X-Twilio-Signature", sim.Sign(token, public+path, form))
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func inbound(sid, from, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {"AC1"}, "From": {from}, "To": {"+85258001000"},
		"Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
}

// offered opens a conversation and fires its notice, so it waits for a reply.
func (v *env) offered(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	id, err := v.runner.RecordPayment(ctx, engine.PaymentInput{TxnID: "T1", MeterID: "M1", Bay: "7", CardToken: "tok_a", PaidAt: v.now, PaidUntil: v.now.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := v.runner.Store.Get(ctx, id)
	v.now = st.Timers[engine.TimerNotice].At
	if _, err := v.runner.Apply(ctx, id, engine.Input{Kind: engine.InputTimer, Timer: &engine.TimerInput{Kind: engine.TimerNotice, ID: st.Timers[engine.TimerNotice].ID}}); err != nil {
		t.Fatal(err)
	}
	return id
}

func (v *env) phase(t *testing.T, id string) engine.Phase {
	st, err := v.runner.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Phase
}

func TestInboundReplyStepsOnceUnderDuplicateDelivery(t *testing.T) {
	v := newEnv(t)
	id := v.offered(t)
	for i := range 2 {
		code, body := v.post(t, "/twilio/sms", inbound("SM1", phone, "１"))
		if code != 200 || !strings.Contains(body, "<Response") {
			t.Fatalf("delivery %d: %d %q, want 200 and empty TwiML", i, code, body)
		}
	}
	if p := v.phase(t, id); p != engine.PhaseQuoted {
		t.Fatalf("phase %s after a duplicated '1', want quoted (stepped once)", p)
	}
	if got := v.queue.Sends(); strings.Join(got, ",") != "notice,quote" {
		t.Fatalf("sends %v", got)
	}
}

func TestInboundWithoutSessionGetsNoSessionMessage(t *testing.T) {
	v := newEnv(t)
	code, _ := v.post(t, "/twilio/sms", inbound("SM2", "+85290000000", "1"))
	if code != 200 || strings.Join(v.queue.Sends(), ",") != "no_session" {
		t.Fatalf("%d %v, want 200 and a no_session message", code, v.queue.Sends())
	}
}

func TestStopEndsConversationAndStartOptsBackIn(t *testing.T) {
	v := newEnv(t)
	id := v.offered(t)
	v.post(t, "/twilio/sms", inbound("SM3", phone, "stop"))
	if p := v.phase(t, id); p != engine.PhaseOptedOut {
		t.Fatalf("phase %s, want opted_out", p)
	}
	v.post(t, "/twilio/sms", inbound("SM4", phone, "1"))
	if got := v.queue.Sends(); strings.Join(got, ",") != "notice" {
		t.Fatalf("sends after STOP %v, want nothing new", got)
	}
	v.post(t, "/twilio/sms", inbound("SM5", phone, "START"))
	if out, _ := v.runner.Registry.OptedOut(context.Background(), phone); out {
		t.Fatal("still opted out after START")
	}
	if got := v.queue.Sends(); got[len(got)-1] != "opted_in" {
		t.Fatalf("sends %v, want opted_in last", got)
	}
}

func TestHelpAndMalformed(t *testing.T) {
	v := newEnv(t)
	v.post(t, "/twilio/sms", inbound("SM6", phone, "help"))
	if got := v.queue.Sends(); strings.Join(got, ",") != "help" {
		t.Fatalf("sends %v", got)
	}
	bad := inbound("", phone, "1")
	if code, _ := v.post(t, "/twilio/sms", bad); code != 400 {
		t.Fatalf("missing MessageSid: %d, want 400", code)
	}
	bad = inbound("SM7", "not-a-number", "1")
	if code, _ := v.post(t, "/twilio/sms", bad); code != 400 {
		t.Fatalf("bad From: %d, want 400", code)
	}
}

func status(mid, sid, st, code string) (string, url.Values) {
	f := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {st}, "SmsStatus": {st}, "AccountSid": {"AC1"}, "To": {phone}, "From": {"+85258001000"}}
	if code != "" {
		f.Set("ErrorCode", code)
	}
	return "/twilio/sms/status?mid=" + url.QueryEscape(mid), f
}

func TestStatusCallbacksNeverLeaveTerminalState(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	key := "ppp:sms:out:m-1"
	v.rdb.HSet(ctx, key, "status", "queued", "rank", 10, "to", phone)
	for _, s := range []string{"sent", "delivered", "sent", "undelivered", "queued"} {
		path, f := status("m-1", "SM9", s, "")
		v.post(t, path, f)
	}
	if got := v.rdb.HGet(ctx, key, "status").Val(); got != "delivered" {
		t.Fatalf("status %q, want delivered to stick", got)
	}
	path, f := status("m-unknown", "SM9", "delivered", "")
	if code, _ := v.post(t, path, f); code != http.StatusNoContent {
		t.Fatalf("unknown message: %d", code)
	}
	path, f = status("m-1", "SM9", "bogus", "")
	if code, _ := v.post(t, path, f); code != 400 {
		t.Fatalf("unknown status: %d, want 400", code)
	}
}

func TestStatusFailuresReachTheConversation(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	id := v.offered(t)
	v.rdb.HSet(ctx, "ppp:sms:out:m-2", "status", "queued", "rank", 10, "to", phone, "conv", id, "body", "x", "template", "notice")
	path, f := status("m-2", "SM10", "undelivered", "30003")
	v.post(t, path, f)
	if n := len(v.queue.Effects()); v.queue.Effects()[n-1].ID != "m-2:retry" {
		t.Fatalf("unreachable handset: last effect %+v, want one retry", v.queue.Effects()[n-1])
	}
	v.rdb.HSet(ctx, "ppp:sms:out:m-3", "status", "queued", "rank", 10, "to", phone, "conv", id)
	path, f = status("m-3", "SM11", "failed", "21610")
	v.post(t, path, f)
	if p := v.phase(t, id); p != engine.PhaseOptedOut {
		t.Fatalf("phase %s after 21610, want opted_out", p)
	}
	if out, _ := v.runner.Registry.OptedOut(ctx, phone); !out {
		t.Fatal("21610 did not record the opt-out")
	}
}

// The one more try for an unreachable handset is never valid past what the
// first text referred to.
func TestUnreachableRetryKeepsTheFirstTextsDeadline(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	id := v.offered(t)
	deadline := v.now.Add(90 * time.Second)
	v.rdb.HSet(ctx, "ppp:sms:out:m-4", "status", "queued", "rank", 10, "to", phone, "conv", id, "body", "x", "template", "notice",
		"valid_until_ms", deadline.UnixMilli())
	path, f := status("m-4", "SM12", "undelivered", "30003")
	v.post(t, path, f)
	effects := v.queue.Effects()
	last := effects[len(effects)-1]
	if last.ID != "m-4:retry" || !last.Send.ValidUntil.Equal(deadline) {
		t.Fatalf("retry %s valid until %s, want %s", last.ID, last.Send.ValidUntil, deadline)
	}
}

// An answer outside any conversation (HELP, no open conversation) is in the
// driver's own language, and a stranger's in the default one; the driver is
// looked up for that answer only.
func TestAnswersOutsideAConversationSpeakTheDriversLanguage(t *testing.T) {
	v := newEnv(t)
	const cantonese = "+85291234568"
	if err := v.runner.Registry.PutUser(context.Background(), engine.User{ID: "u-2", Phone: cantonese, Language: "zh-HK", CardToken: "tok_b", CardLast4: "1111", CardKind: engine.CardCredit}); err != nil {
		t.Fatal(err)
	}
	v.post(t, "/twilio/sms", inbound("SM20", cantonese, "HELP"))
	v.post(t, "/twilio/sms", inbound("SM21", cantonese, "1"))
	v.post(t, "/twilio/sms", inbound("SM22", "+85291234569", "HELP"))
	var got []string
	for _, e := range v.queue.Effects() {
		if e.Send != nil {
			got = append(got, e.Send.Template+":"+e.Send.Language)
		}
	}
	if strings.Join(got, ",") != "help:zh-HK,no_session:zh-HK,help:en" {
		t.Fatalf("sends %v", got)
	}
}
