package ivr_test

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/ivr"
	"ppprenew/sim"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/twiliohook"
	"ppprenew/workflows/workflowstest"
)

// fakeEnv runs the voice webhooks on the fake port; the calls between
// webhooks are kept in an in-process Redis.
type fakeEnv struct {
	t    *testing.T
	e    *echo.Echo
	conv *workflowstest.Conversations
	set  *engine.Settings
	rdb  *redis.Client
}

func newFakeEnv(t *testing.T) *fakeEnv {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	set, err := engine.LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	v := &fakeEnv{t: t, e: echo.New(), conv: workflowstest.NewConversations(), set: set, rdb: rdb}
	now := func() time.Time { return time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC) }
	hook := twiliohook.DefaultConfig()
	hook.PublicURL, hook.AuthToken = public, token
	cfg := ivr.DefaultConfig()
	cfg.PublicURL, cfg.From = public, "+85258001000"
	(&ivr.Webhooks{Config: cfg, Conversations: v.conv, Settings: set, Redis: rdb, Metrics: ivr.NewMetrics(), Now: now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Register(v.e.Group("/twilio", twiliohook.Middleware(hook)))
	return v
}

// answered is a TwiML answer as the caller hears it.
type answered struct {
	Say    []string `xml:"Say"`
	Gather []struct {
		Action    string   `xml:"action,attr"`
		NumDigits string   `xml:"numDigits,attr"`
		Say       []string `xml:"Say"`
	} `xml:"Gather"`
	Hangup *struct{} `xml:"Hangup"`
	raw    string
}

func (v *fakeEnv) post(path string, form url.Values) (int, answered) {
	v.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("X-Twilio-Signature", sim.Sign(token, public+path, form))
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	a := answered{raw: rec.Body.String()}
	if rec.Code == http.StatusOK {
		if err := xml.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			v.t.Fatalf("%s: %v in %s", path, err, rec.Body)
		}
	}
	return rec.Code, a
}

func (v *fakeEnv) prompt(st engine.State, name string) string {
	v.t.Helper()
	text, err := engine.Prompt(v.set, st, name, true)
	if err != nil {
		v.t.Fatal(err)
	}
	return text
}

// An outbound call speaks the notice, hands the key to the conversation
// through the port, says the conversation's inline answer and hangs up; the
// end of the call is reported as a channel event. No Redis of the
// conversation is involved: everything goes through the port.
func TestCallAgainstFakeConversations(t *testing.T) {
	v := newFakeEnv(t)
	st := engine.State{ID: "c-M1-T1", Version: 2, Phase: engine.PhaseOffered, UserID: "u-1", Phone: phone, Language: "en",
		MeterID: "M1", Bay: "12", Location: "Pier Road", PaidUntil: time.Date(2026, 11, 21, 4, 30, 0, 0, time.UTC),
		Timers: map[engine.TimerKind]engine.Timer{}}
	v.conv.Convs[st.ID] = st
	alert := st
	alert.Phase, alert.Version = engine.PhaseAlertSet, 3
	v.conv.Reply = alert
	v.conv.Spoken = []engine.Effect{{ID: "e-1", Kind: engine.EffectSend, Send: &engine.Send{Channel: engine.ChannelVoice, Template: "alert_scheduled", Body: "We will call you at 4:35 AM.", Inline: true}}}

	q := url.Values{"conv": {st.ID}, "send": {"e-0"}}.Encode()
	code, a := v.post("/twilio/voice/answer?"+q, callForm("CA-f1", "AnsweredBy", "human"))
	if code != http.StatusOK || len(a.Gather) != 1 || a.Gather[0].NumDigits != "1" || !slices.Equal(a.Gather[0].Say, []string{v.prompt(st, "notice")}) {
		t.Fatalf("answer %d %s, want the notice in a one-key menu", code, a.raw)
	}
	if got := v.conv.TakeCalls(); !slices.Equal(got, []string{"Conversation c-M1-T1"}) {
		t.Fatalf("port calls %q, want only the conversation loaded", got)
	}

	action := strings.TrimPrefix(a.Gather[0].Action, public)
	_, a = v.post(action, callForm("CA-f1", "Digits", "2"))
	if !slices.Equal(a.Say, []string{"We will call you at 4:35 AM."}) || a.Hangup == nil || len(a.Gather) != 0 {
		t.Fatalf("after 2: %s, want the conversation's inline answer and a hangup", a.raw)
	}
	if got := v.conv.TakeCalls(); !slices.Equal(got, []string{"ReplyTo c-M1-T1 2 voice cond=false"}) {
		t.Fatalf("port calls %q, want one reply 2 on voice", got)
	}

	// The same key delivered again is answered from the call, not replied twice.
	_, again := v.post(action, callForm("CA-f1", "Digits", "2"))
	if again.raw != a.raw || len(v.conv.TakeCalls()) != 0 {
		t.Fatalf("duplicate delivery answered %s and reached the port", again.raw)
	}

	if code, _ := v.post("/twilio/voice/status?"+q, callForm("CA-f1", "CallStatus", "completed")); code != http.StatusNoContent {
		t.Fatalf("status callback answered %d", code)
	}
	if got := v.conv.TakeCalls(); !slices.Equal(got, []string{"ChannelEvent c-M1-T1 call_ended"}) {
		t.Fatalf("port calls %q, want the end of the answered call reported", got)
	}
}

// A call nobody answers hands its message over to text: the port hears a
// send failure naming the message of the call.
func TestUnansweredCallAgainstFakeConversationsFallsBack(t *testing.T) {
	v := newFakeEnv(t)
	st := engine.State{ID: "c-M1-T2", Phase: engine.PhaseOffered, UserID: "u-1", Phone: phone, Language: "en", Timers: map[engine.TimerKind]engine.Timer{}}
	v.conv.Convs[st.ID] = st
	// What the caller recorded when it placed the call.
	v.rdb.HSet(context.Background(), "ppp:ivr:out:e-9", "conv", st.ID, "template", "grace_alert", "sid", "CA-f2")
	q := url.Values{"conv": {st.ID}, "send": {"e-9"}}.Encode()
	if code, _ := v.post("/twilio/voice/status?"+q, callForm("CA-f2", "CallStatus", "no-answer")); code != http.StatusNoContent {
		t.Fatalf("status callback answered %d", code)
	}
	if got := v.conv.TakeCalls(); !slices.Equal(got, []string{"Conversation c-M1-T2", "ChannelEvent c-M1-T2 send_failed"}) {
		t.Fatalf("port calls %q", got)
	}
	ev := v.conv.Events[0]
	if ev.Send == nil || ev.Send.EffectID != "e-9" || ev.Send.Channel != engine.ChannelVoice || ev.Send.Reason != "no-answer" || ev.Send.Template != "grace_alert" {
		t.Fatalf("send failure %+v", ev.Send)
	}
}

// A registered driver calling about a paid stay hears its status and the
// menu; the port records the menu as a prompt of the conversation.
func TestInboundCallAgainstFakeConversationsOffersTheMenu(t *testing.T) {
	v := newFakeEnv(t)
	v.conv.Users["u-1"] = engine.User{ID: "u-1", Phone: phone, Language: "en"}
	st := engine.State{ID: "c-M1-T3", Phase: engine.PhaseParked, UserID: "u-1", Phone: phone, Language: "en", Bay: "12", Location: "Pier Road",
		PaidUntil: time.Date(2026, 11, 21, 5, 0, 0, 0, time.UTC), Timers: map[engine.TimerKind]engine.Timer{}}
	v.conv.Convs[st.ID] = st
	v.conv.Open[phone] = []string{st.ID}
	f := callForm("CA-f3", "Direction", "inbound")
	f.Set("From", phone)
	_, a := v.post("/twilio/voice", f)
	if !slices.Equal(a.Say, []string{v.prompt(st, "status")}) || len(a.Gather) != 1 || !slices.Equal(a.Gather[0].Say, []string{v.prompt(st, "menu")}) {
		t.Fatalf("inbound: %s, want the status and the menu", a.raw)
	}
	want := []string{"DriverByPhone " + engine.MaskPhone(phone), "OpenConversations " + engine.MaskPhone(phone), "Conversation c-M1-T3", "ChannelEvent c-M1-T3 call_menu"}
	if got := v.conv.TakeCalls(); !slices.Equal(got, want) {
		t.Fatalf("port calls %q, want %q", got, want)
	}
}
