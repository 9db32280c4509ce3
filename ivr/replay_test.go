package ivr_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/ivr"
	"ppprenew/sim"
)

// gateCommit holds, once armed, the first delivery just after it committed
// its step to Redis, so a webhook stays in flight while its duplicate
// arrives.
type gateCommit struct {
	armed   atomic.Bool
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gateCommit) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g *gateCommit) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (g *gateCommit) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		args := cmd.Args()
		commit := (cmd.Name() == "evalsha" || cmd.Name() == "eval") && len(args) > 3 && strings.HasPrefix(fmt.Sprint(args[3]), "ppp:conv:")
		if commit && g.armed.Load() {
			first := false
			g.once.Do(func() { first = true })
			if first {
				close(g.entered)
				<-g.release
			}
		}
		return err
	}
}

// raw posts a signed webhook with a request context and returns the body.
func (v *callEnv) raw(ctx context.Context, path string, form url.Values) string {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode())).WithContext(ctx)
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.Header.Set("X-Twilio-Signature", sim.Sign(token, public+path, form))
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		v.t.Errorf("%s answered %d", path, rec.Code)
	}
	return rec.Body.String()
}

// replies counts the keypad answers the conversation took.
func (v *callEnv) replies() int {
	h, err := v.runner.Store.History(context.Background(), v.conv)
	if err != nil {
		v.t.Fatal(err)
	}
	n := 0
	for _, e := range h {
		if strings.HasPrefix(e.Input, "reply ") {
			n++
		}
	}
	return n
}

func TestDuplicateGatherInFlightGetsTheSameAnswerAndRunsOnce(t *testing.T) {
	v := newCallEnv(t, nil, voiceUser("en"))
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA1", "AnsweredBy", "human"))
	doc = v.post(next(doc), callForm("CA1", "Digits", "1")) // the quote
	before := v.replies()
	gate := &gateCommit{entered: make(chan struct{}), release: make(chan struct{})}
	v.rdb.AddHook(gate)
	gate.armed.Store(true)
	confirm := next(doc)
	answers := make(chan string, 2)
	go func() { answers <- v.raw(context.Background(), confirm, callForm("CA1", "Digits", "1")) }()
	<-gate.entered // the first delivery has committed the charge and not yet answered
	dup := make(chan string, 1)
	go func() { dup <- v.raw(context.Background(), confirm, callForm("CA1", "Digits", "1")) }()
	// Release the first delivery once the duplicate is waiting for it (or,
	// with a guard that does not wait, once the duplicate has answered).
	step := "CA1:gather:" + strings.TrimPrefix(confirm[strings.Index(confirm, "step="):], "step=")
	deadline := time.Now().Add(20 * time.Second)
	var second string
wait:
	for {
		select {
		case second = <-dup:
			break wait
		default:
		}
		n, err := v.rdb.PubSubNumSub(context.Background(), "ppp:ivr:answered:"+step).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n["ppp:ivr:answered:"+step] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the duplicate neither waited nor answered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(gate.release)
	first := <-answers
	if second == "" {
		second = <-dup
	}
	if first != second {
		t.Fatalf("the duplicate got different TwiML:\n first: %s\nsecond: %s", first, second)
	}
	if !strings.Contains(first, "/twilio/voice/hold") {
		t.Fatalf("the confirmation did not hold for the charge: %s", first)
	}
	if n := v.replies() - before; n != 1 {
		t.Fatalf("the confirming key press was applied %d times, want 1", n)
	}
	if v.charges() != 1 {
		t.Fatalf("%d charges, want 1", v.charges())
	}
}

func TestDuplicateWhoseFirstAnswerNeverComesHearsAnApology(t *testing.T) {
	v := newCallEnvWith(t, nil, func(c *ivr.Config) { c.ReplayWait = 300 * time.Millisecond }, voiceUser("en"))
	conv, send := v.noticeCall("MTR-0001", "12")
	doc := v.post("/twilio/voice/answer?"+url.Values{"conv": {conv}, "send": {send}}.Encode(), callForm("CA1", "AnsweredBy", "human"))
	before := v.replies()
	// Another delivery of this step holds the lock and never answers.
	action := next(doc)
	step := "CA1:gather:" + strings.TrimPrefix(action[strings.Index(action, "step="):], "step=")
	v.rdb.Set(context.Background(), "ppp:ivr:lock:"+step, 1, time.Minute)
	out := v.raw(context.Background(), action, callForm("CA1", "Digits", "1"))
	root, err := ivr.ParseTwiMLForTest(out)
	if err != nil {
		t.Fatalf("not TwiML: %v: %s", err, out)
	}
	if err := ivr.CheckTwiMLForTest(root); err != nil {
		t.Fatalf("not valid TwiML: %v: %s", err, out)
	}
	if !strings.Contains(out, "<Hangup") || strings.Contains(out, "<Gather") || !strings.Contains(out, "Sorry") {
		t.Fatalf("want an apology and a hangup, got %s", out)
	}
	if n := v.replies() - before; n != 0 {
		t.Fatalf("the key press was applied %d times while another delivery held the step", n)
	}
}
