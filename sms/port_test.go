package sms_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/sim"
	"ppprenew/sms"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/twiliohook"
)

// fakeTexts is a hand-written workflows.Texts: one driver with one open
// conversation, recording every call the channel makes.
type fakeTexts struct {
	mu       sync.Mutex
	calls    []string
	claimed  map[string]bool
	optedOut bool
	replyErr error
}

func (f *fakeTexts) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeTexts) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeTexts) Route(_ context.Context, phone string, claim workflows.Claim) (workflows.Route, error) {
	f.record("route %s", claim.Key)
	f.mu.Lock()
	defer f.mu.Unlock()
	fresh := !f.claimed[claim.Key]
	f.claimed[claim.Key] = true
	return workflows.Route{Phone: phone, Fresh: fresh, OptedOut: f.optedOut, Conv: "conv-1"}, nil
}

func (f *fakeTexts) Unclaim(_ context.Context, claim workflows.Claim) error {
	f.record("unclaim %s", claim.Key)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.claimed, claim.Key)
	return nil
}

func (f *fakeTexts) ReplyRouted(_ context.Context, rt workflows.Route, a engine.Answer, channel string) (engine.State, error) {
	f.record("reply %s %s %s", rt.Conv, a, channel)
	return engine.State{ID: rt.Conv}, f.replyErr
}

func (f *fakeTexts) ChannelEvent(_ context.Context, id string, ev engine.Input) (engine.State, error) {
	f.record("event %s %s", id, ev.Kind)
	return engine.State{ID: id}, nil
}

func (f *fakeTexts) OptOut(_ context.Context, phone string) error {
	f.record("opt out %s", engine.MaskPhone(phone))
	return nil
}

func (f *fakeTexts) OptIn(_ context.Context, phone string) (int, error) {
	f.record("opt in %s", engine.MaskPhone(phone))
	return 0, nil
}

func (f *fakeTexts) OptedOut(context.Context, string) (bool, error) { return f.optedOut, nil }

func (f *fakeTexts) Notify(_ context.Context, key, _, language, template string) error {
	f.record("notify %s %s %s", key, language, template)
	return nil
}

func (f *fakeTexts) DriverByPhone(_ context.Context, phone string) (engine.User, error) {
	f.record("driver %s", engine.MaskPhone(phone))
	return engine.User{ID: "u-1", Phone: phone, Language: "zh-HK"}, nil
}

var _ workflows.Texts = (*fakeTexts)(nil)

// fakeEnv serves the SMS webhooks on the fake, without Redis.
func fakeEnv(t *testing.T, f *fakeTexts) *echo.Echo {
	t.Helper()
	f.claimed = map[string]bool{}
	e := echo.New()
	hook := twiliohook.DefaultConfig()
	hook.PublicURL, hook.AuthToken = public, token
	(&sms.Webhooks{Texts: f, Metrics: sms.NewMetrics(), DedupeTTL: 48 * time.Hour, Now: time.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Register(e.Group("/twilio", twiliohook.Middleware(hook)))
	return e
}

func postFake(t *testing.T, e *echo.Echo, sid, body string) (int, string) {
	t.Helper()
	form := inbound(sid, phone, body)
	req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("X-Twilio-Signature", sim.Sign(token, public+"/twilio/sms", form))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// What the SMS channel asks of the conversation for each kind of text: an
// answer is routed once and answered on the sms channel, a duplicate is
// routed and goes no further, STOP opts out, HELP is answered outside the
// conversation in the driver's language.
func TestSMSWebhooksAskTheConversationOnlyWhatEachTextNeeds(t *testing.T) {
	cases := []struct {
		name  string
		texts []string
		want  []string
	}{
		{"answer", []string{"1"}, []string{"route ppp:sms:in:SM0", "reply conv-1 1 sms"}},
		{"duplicate", []string{"1", "1"}, []string{"route ppp:sms:in:SM0", "reply conv-1 1 sms", "route ppp:sms:in:SM0"}},
		{"stop", []string{"STOP"}, []string{"route ppp:sms:in:SM0", "opt out " + engine.MaskPhone(phone)}},
		{"help", []string{"HELP"}, []string{"route ppp:sms:in:SM0", "driver " + engine.MaskPhone(phone), "notify SM0 zh-HK help"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeTexts{}
			e := fakeEnv(t, f)
			for _, body := range c.texts {
				if code, out := postFake(t, e, "SM0", body); code != 200 || !strings.Contains(out, "<Response") {
					t.Fatalf("%q: %d %q", body, code, out)
				}
			}
			if got := f.Calls(); !slices.Equal(got, c.want) {
				t.Fatalf("calls\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// A text whose answer fails is unclaimed, so the carrier's retry of it is
// processed rather than dropped as a duplicate.
func TestSMSAnswerThatFailsIsUnclaimedForTheRetry(t *testing.T) {
	f := &fakeTexts{replyErr: errors.New("conversation store refused")}
	e := fakeEnv(t, f)
	if code, _ := postFake(t, e, "SM7", "2"); code != http.StatusInternalServerError {
		t.Fatalf("failed answer: %d, want 500 so the carrier retries", code)
	}
	f.replyErr = nil
	if code, _ := postFake(t, e, "SM7", "2"); code != 200 {
		t.Fatalf("retry: %d", code)
	}
	want := []string{"route ppp:sms:in:SM7", "reply conv-1 2 sms", "unclaim ppp:sms:in:SM7", "route ppp:sms:in:SM7", "reply conv-1 2 sms"}
	if got := f.Calls(); !slices.Equal(got, want) {
		t.Fatalf("calls\n got %q\nwant %q", got, want)
	}
}
