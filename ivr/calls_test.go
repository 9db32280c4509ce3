package ivr_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/ivr"
	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
	"ppprenew/workflows/twiliohook"
	"ppprenew/workflows/workflowstest"
)

var update = flag.Bool("update", false, "rewrite golden call transcripts in testdata/calls")

const (
	public = "https://ppp.example.com"
	token  = "voice-test-token-0123456789abcdef"
	phone  = "+85291234567"
)

// callEnv runs the voice webhooks on a real Redis with a recording queue.
type callEnv struct {
	t      *testing.T
	e      *echo.Echo
	rdb    *redis.Client
	runner *workflows.Runner
	queue  *workflowstest.Queue
	now    time.Time
	conv   string
	log    strings.Builder
}

func newCallEnv(t *testing.T, edit func(*engine.Settings), users ...engine.User) *callEnv {
	t.Helper()
	return newCallEnvWith(t, edit, nil, users...)
}

// newCallEnvWith also lets a test change the voice channel's config.
func newCallEnvWith(t *testing.T, edit func(*engine.Settings), editCfg func(*ivr.Config), users ...engine.User) *callEnv {
	t.Helper()
	rdb := redistest.Client(t, redistest.DBIVR)
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(set)
	}
	v := &callEnv{t: t, rdb: rdb, queue: workflowstest.NewQueue(rdb), now: time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC)}
	now := func() time.Time { return v.now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v.runner = &workflows.Runner{Settings: set, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, now), Now: now, Log: log}
	for _, u := range users {
		if err := v.runner.Registry.PutUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	v.e = echo.New()
	hook := twiliohook.DefaultConfig()
	hook.PublicURL, hook.AuthToken = public, token
	cfg := ivr.DefaultConfig()
	cfg.PublicURL, cfg.From = public, "+85258001000"
	if editCfg != nil {
		editCfg(&cfg)
	}
	(&ivr.Webhooks{Config: cfg, Conversations: v.runner, Settings: set, Redis: rdb, Metrics: ivr.NewMetrics(), Now: now, Log: log}).
		Register(v.e.Group("/twilio", twiliohook.Middleware(hook)))
	return v
}

func voiceUser(lang string) engine.User {
	return engine.User{ID: "u-1", Phone: phone, Language: lang, CardToken: "tok_a", CardLast4: "4242", CardKind: engine.CardCredit, Channel: engine.ChannelVoice}
}

// noticeCall opens a conversation and fires its notice, which asks for a call.
func (v *callEnv) noticeCall(meter, bay string) (conv, send string) {
	v.t.Helper()
	ctx := context.Background()
	id, err := v.runner.RecordPayment(ctx, engine.PaymentInput{TxnID: "T-" + meter + bay, MeterID: meter, Bay: bay, Location: "Pier Road", CardToken: "tok_a", PaidAt: v.now, PaidUntil: v.now.Add(30 * time.Minute)})
	if err != nil {
		v.t.Fatal(err)
	}
	st, _ := v.runner.Store.Get(ctx, id)
	tm := st.Timers[engine.TimerNotice]
	v.now = tm.At
	if _, err := v.runner.Apply(ctx, id, engine.Input{Kind: engine.InputTimer, Timer: &engine.TimerInput{Kind: engine.TimerNotice, ID: tm.ID}}); err != nil {
		v.t.Fatal(err)
	}
	var e engine.Effect
	for _, x := range v.queue.Effects() {
		if x.Send != nil {
			e = x
		}
	}
	if e.Send == nil || e.Send.Channel != engine.ChannelVoice {
		v.t.Fatalf("the notice did not ask for a send: %+v", e)
	}
	// What the caller records when it places the call.
	v.rdb.HSet(ctx, "ppp:ivr:out:"+e.ID, "conv", id, "template", e.Send.Template, "sid", "CA-out")
	v.conv = id
	return id, e.ID
}

// post sends a signed voice webhook, checks the TwiML is documented, and
// records request and canonical response in the transcript.
func (v *callEnv) post(path string, form url.Values) string {
	v.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("X-Twilio-Signature", sim.Sign(token, public+path, form))
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	shown := url.Values{}
	for k, vals := range form {
		if k != "AccountSid" && k != "ApiVersion" {
			shown[k] = vals
		}
	}
	if d := shown.Get("Digits"); len(d) >= 4 {
		shown.Set("Digits", strings.Repeat("*", len(d))) // PINs stay out of transcripts too
	}
	fmt.Fprintf(&v.log, "> POST %s %s\n", strings.Split(path, "?")[0], shown.Encode())
	if rec.Code == http.StatusNoContent {
		fmt.Fprintf(&v.log, "< 204\n")
		return ""
	}
	root, err := ivr.ParseTwiMLForTest(rec.Body.String())
	if err != nil {
		v.t.Fatalf("%s answered %d with unparseable TwiML %q: %v", path, rec.Code, rec.Body, err)
	}
	if rec.Code != 200 {
		v.t.Fatalf("%s answered %d", path, rec.Code)
	}
	if err := ivr.CheckTwiMLForTest(root); err != nil {
		v.t.Fatalf("%s: %v in %s", path, err, rec.Body)
	}
	v.log.WriteString(ivr.RenderTwiMLForTest(root))
	if v.conv != "" {
		st, _ := v.runner.Store.Get(context.Background(), v.conv)
		fmt.Fprintf(&v.log, "  = conversation %s v%d\n", st.Phase, st.Version)
	}
	return rec.Body.String()
}

// next returns the gather action of an answer (path and query, for post).
func next(doc string) string {
	i := strings.Index(doc, public+"/twilio/voice/")
	if i < 0 {
		return ""
	}
	rest := doc[i+len(public):]
	end := strings.IndexAny(rest, `"<`)
	return strings.ReplaceAll(rest[:end], "&amp;", "&")
}

func callForm(sid string, kv ...string) url.Values {
	f := url.Values{"CallSid": {sid}, "AccountSid": {"AC1"}, "From": {"+85258001000"}, "To": {phone}, "CallStatus": {"in-progress"}, "Direction": {"outbound-api"}, "ApiVersion": {"2010-04-01"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func (v *callEnv) charges() int {
	n := 0
	for _, e := range v.queue.Effects() {
		if e.Charge != nil {
			n++
		}
	}
	return n
}

func (v *callEnv) sends(channel string) []string {
	var out []string
	for _, e := range v.queue.Effects() {
		if e.Send != nil && e.Send.Channel == channel {
			out = append(out, e.Send.Template)
		}
	}
	return out
}

// golden compares the transcript with testdata/calls/<name>.txt.
func (v *callEnv) golden(name string) {
	v.t.Helper()
	path := filepath.Join("testdata", "calls", name+".txt")
	got := v.log.String()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			v.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		v.t.Fatalf("%v (run `go test ./ivr -update` to create it)", err)
	}
	if got != string(want) {
		v.t.Fatalf("call transcript differs from %s (rerun with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func (v *callEnv) settle(outcome engine.ChargeOutcome, ackApplied bool) {
	v.t.Helper()
	ctx := context.Background()
	st, _ := v.runner.Store.Get(ctx, v.conv)
	v.now = v.now.Add(time.Second)
	st, err := v.runner.Apply(ctx, v.conv, engine.Input{Kind: engine.InputCharge, Charge: &engine.ChargeResult{Key: st.Quote.ChargeKey, Outcome: outcome, ChargeID: "ch_1"}})
	if err != nil {
		v.t.Fatal(err)
	}
	if outcome == engine.ChargeSucceeded && ackApplied {
		r := st.Renewals[len(st.Renewals)-1]
		if _, err := v.runner.Apply(ctx, v.conv, engine.Input{Kind: engine.InputMeterAck, Ack: &engine.AckInput{CommandID: r.CommandID, Applied: true, PaidUntil: r.Until}}); err != nil {
			v.t.Fatal(err)
		}
	}
}

func TestOutboundCallExtendAndConfirm(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA1", "AnsweredBy", "human"))
	doc = v.post(next(doc), callForm("CA1", "Digits", "1"))
	doc = v.post(next(doc), callForm("CA1", "Digits", "1"))
	v.settle(engine.ChargeSucceeded, true)
	v.post(next(doc), callForm("CA1"))
	v.post("/twilio/voice/status?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA1", "CallStatus", "completed", "CallDuration", "40"))
	if v.charges() != 1 {
		t.Fatalf("%d charges, want 1", v.charges())
	}
	if got := v.sends(engine.ChannelSMS); strings.Join(got, ",") != "confirmed" {
		t.Fatalf("texts %v, want only the confirmation receipt", got)
	}
	v.golden("outbound_extend_confirm")
}

func TestOutboundCallCantoneseRepeatInvalidAndCancel(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("zh-HK"))
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA2", "AnsweredBy", "human"))
	doc = v.post(next(doc), callForm("CA2", "Digits", "9"))
	doc = v.post(next(doc), callForm("CA2", "Digits", "7"))
	doc = v.post(next(doc), callForm("CA2", "Digits", "1"))
	doc = v.post(next(doc), callForm("CA2", "Digits", "2"))
	v.post(next(doc), callForm("CA2", "Digits", "3"))
	if v.charges() != 0 {
		t.Fatal("a cancelled quote was charged")
	}
	if got := v.sends(engine.ChannelSMS); strings.Join(got, ",") != "app_link" {
		t.Fatalf("texts %v, want the app link", got)
	}
	v.golden("outbound_zh_hk_repeat_invalid_cancel_app")
}

func TestThreeSilencesFallBackToSMS(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("zh-CN"))
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA3", "AnsweredBy", "human"))
	for range 3 {
		doc = v.post(next(doc), callForm("CA3"))
	}
	v.post("/twilio/voice/status?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA3", "CallStatus", "completed"))
	if got := v.sends(engine.ChannelSMS); strings.Join(got, ",") != "notice" {
		t.Fatalf("texts %v, want the notice once as SMS", got)
	}
	v.golden("three_silences_sms_fallback")
}

func TestVoicemailLeavesMessageAndTexts(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	conv, send := v.noticeCall("MTR-0001", "12")
	v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA4", "AnsweredBy", "machine_end_beep"))
	v.post("/twilio/voice/status?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA4", "CallStatus", "completed"))
	if got := v.sends(engine.ChannelSMS); strings.Join(got, ",") != "notice" {
		t.Fatalf("texts %v, want the notice once as SMS", got)
	}
	v.golden("voicemail_then_sms")
}

func TestBusyAndNoAnswerFallBackOnce(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	conv, send := v.noticeCall("MTR-0001", "12")
	q := url.Values{"conv": {conv}, "send": {send}}.Encode()
	v.post("/twilio/voice/status?"+q, callForm("CA5", "CallStatus", "ringing"))
	v.post("/twilio/voice/status?"+q, callForm("CA5", "CallStatus", "busy"))
	v.post("/twilio/voice/status?"+q, callForm("CA5", "CallStatus", "busy"))      // duplicate
	v.post("/twilio/voice/status?"+q, callForm("CA5", "CallStatus", "completed")) // late, after a terminal status
	if got := v.sends(engine.ChannelSMS); strings.Join(got, ",") != "notice" {
		t.Fatalf("texts %v, want exactly one SMS fallback", got)
	}
	if got := v.rdb.Get(context.Background(), "ppp:ivr:status:CA5").Val(); got != "busy" {
		t.Fatalf("call status %q, want busy kept", got)
	}
}

func TestHangupMidConfirmChargesNothing(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA6", "AnsweredBy", "human"))
	v.post(next(doc), callForm("CA6", "Digits", "1")) // hears the quote, then hangs up
	v.post("/twilio/voice/status?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA6", "CallStatus", "completed"))
	st, _ := v.runner.Store.Get(context.Background(), conv)
	if v.charges() != 0 || st.Phase != engine.PhaseQuoted {
		t.Fatalf("charges %d phase %s, want nothing charged and the quote still open", v.charges(), st.Phase)
	}
}

func TestDuplicatedGatherWebhookAnswersSameAndChargesOnce(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA7", "AnsweredBy", "human"))
	doc = v.post(next(doc), callForm("CA7", "Digits", "1"))
	confirm := next(doc)
	first := v.post(confirm, callForm("CA7", "Digits", "1"))
	second := v.post(confirm, callForm("CA7", "Digits", "1"))
	if first != second {
		t.Fatalf("a retried webhook got a different answer:\n%s\n%s", first, second)
	}
	if v.charges() != 1 {
		t.Fatalf("%d charges, want 1", v.charges())
	}
}

func TestPINRequiredAndLockout(t *testing.T) {
	u := voiceUser("en")
	h, err := ivr.HashPIN("2468")
	if err != nil {
		t.Fatal(err)
	}
	u.PINHash = h
	v := newCallEnv(t, func(s *engine.Settings) { s.Voice.PINRequired = true }, u)
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA8", "AnsweredBy", "human"))
	doc = v.post(next(doc), callForm("CA8", "Digits", "1"))
	doc = v.post(next(doc), callForm("CA8", "Digits", "1")) // asks for the PIN
	doc = v.post(next(doc), callForm("CA8", "Digits", "1111"))
	doc = v.post(next(doc), callForm("CA8", "Digits", "2222"))
	v.post(next(doc), callForm("CA8", "Digits", "3333")) // locked
	if v.charges() != 0 {
		t.Fatal("charged without a correct PIN")
	}
	if got := v.sends(engine.ChannelSMS); strings.Join(got, ",") != "quote" {
		t.Fatalf("texts %v, want the quote by SMS after the lockout", got)
	}
	if strings.Contains(v.log.String(), "1111") {
		t.Fatal("an entered PIN reached the transcript")
	}
	v.golden("pin_lockout")

	// A second call during the lockout cannot confirm either; the right PIN
	// after the lockout would, and the right PIN first time confirms at once.
	v2 := newCallEnv(t, func(s *engine.Settings) { s.Voice.PINRequired = true }, u)
	conv, send = v2.noticeCall("MTR-0001", "12")
	doc = v2.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA9", "AnsweredBy", "human"))
	doc = v2.post(next(doc), callForm("CA9", "Digits", "1"))
	doc = v2.post(next(doc), callForm("CA9", "Digits", "1"))
	v2.post(next(doc), callForm("CA9", "Digits", "2468"))
	if v2.charges() != 1 {
		t.Fatalf("%d charges after the right PIN, want 1", v2.charges())
	}
}

func TestInboundCalls(t *testing.T) {
	other := engine.User{ID: "u-2", Phone: "+85291234568", Language: "en", CardToken: "tok_b", CardLast4: "1111", CardKind: engine.CardCredit}
	v := newCallEnv(t, nil, voiceUser("en"), other)
	v.noticeCall("MTR-0001", "12")
	in := func(sid, from string, kv ...string) url.Values {
		f := callForm(sid, kv...)
		f.Set("From", from)
		f.Set("To", "+85258001000")
		f.Set("Direction", "inbound")
		return f
	}
	// A registered driver with one session hears its menu and extends.
	doc := v.post("/twilio/voice", in("CA10", "+852 9123 4567"))
	doc = v.post(next(doc), in("CA10", phone, "Digits", "1"))
	v.post(next(doc), in("CA10", phone, "Digits", "1"))
	// A registered driver with no session.
	v.conv = ""
	v.post("/twilio/voice", in("CA11", "+85291234568"))
	// A withheld number, when the operator does not allow unknown callers.
	v.runner.Settings.Voice.AllowUnknownCallers = false
	v.post("/twilio/voice", in("CA12", "anonymous"))
	if v.charges() != 1 {
		t.Fatalf("%d charges, want 1", v.charges())
	}
	v.golden("inbound_calls")
}

func TestInboundCallChoosesAmongSessions(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	v.noticeCall("MTR-0001", "12")
	v.noticeCall("MTR-0002", "3")
	f := callForm("CA13", "Direction", "inbound")
	f.Set("From", phone)
	doc := v.post("/twilio/voice", f)
	f.Set("Digits", "2")
	v.post(next(doc), f)
	v.golden("inbound_choose_session")
}

func TestUnknownCallerFindsSessionByMeterBayAndPIN(t *testing.T) {
	u := voiceUser("en")
	u.PINHash, _ = ivr.HashPIN("2468")
	v := newCallEnv(t, nil, u)
	v.noticeCall("MTR-0001", "12")
	f := callForm("CA14", "Direction", "inbound")
	f.Set("From", "anonymous")
	doc := v.post("/twilio/voice", f)
	for _, digits := range []string{"0001", "12", "2468", "1"} {
		f.Set("Digits", digits)
		doc = v.post(next(doc), f)
	}
	st, _ := v.runner.Store.Get(context.Background(), v.conv)
	if st.Phase != engine.PhaseQuoted {
		t.Fatalf("phase %s, want the quote after meter, bay and PIN", st.Phase)
	}
	v.golden("unknown_caller_meter_bay_pin")
}

func TestErrorsAnswerValidTwiML(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	v.post("/twilio/voice/answer?conv=does-not-exist&send=x", callForm("CA15", "AnsweredBy", "human"))
	v.post("/twilio/voice/gather?step=1", callForm("CA-unknown", "Digits", "1"))
	v.post("/twilio/voice/gather?step=1", url.Values{"Digits": {"1"}})
	v.golden("errors")
}
