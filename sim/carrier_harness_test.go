package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

const (
	testPlatform  = "+85258001000"
	testPlatform2 = "+85258001001"
	testPhone     = "+85291234567"
)

// fakeClock is a settable simulated clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hit is one request a receiver got.
type hit struct {
	path, url string
	form      url.Values
	header    http.Header
	sigValid  bool
}

// receiver is the platform side in tests: it records every webhook and
// checks its signature with twilio-go's validator.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	token  string
	mu     sync.Mutex
	hits   []hit
	status int
	body   string
}

func newReceiver(t *testing.T, token string) *receiver {
	rc := &receiver{t: t, token: token, status: http.StatusOK}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("receiver parse form: %v", err)
		}
		full := rc.srv.URL + r.URL.RequestURI()
		params := map[string]string{}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
		v := client.NewRequestValidator(token)
		h := hit{path: r.URL.Path, url: full, form: r.PostForm, header: r.Header.Clone(),
			sigValid: v.Validate(full, params, r.Header.Get("X-Twilio-Signature"))}
		rc.mu.Lock()
		rc.hits = append(rc.hits, h)
		status, body := rc.status, rc.body
		rc.mu.Unlock()
		if body != "" {
			w.Header().Set("Content-Type", "text/xml")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) respond(status int, body string) {
	rc.mu.Lock()
	rc.status, rc.body = status, body
	rc.mu.Unlock()
}

// hitsFor returns the hits whose MessageSid is sid.
func (rc *receiver) hitsFor(sid string) []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hit
	for _, h := range rc.hits {
		if h.form.Get("MessageSid") == sid {
			out = append(out, h)
		}
	}
	return out
}

// waitHits polls until sid has n hits, failing after a deadline.
func (rc *receiver) waitHits(sid string, n int) []hit {
	rc.t.Helper()
	var got []hit
	waitUntil(rc.t, func() bool { got = rc.hitsFor(sid); return len(got) >= n })
	return got
}

// waitUntil polls cond until it holds or a 5 s deadline passes.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached before the deadline")
		}
		<-tick.C
	}
}

// harness runs a carrier and a gateway on one Echo server.
type harness struct {
	t       *testing.T
	cfg     Config
	clock   *fakeClock
	carrier *Carrier
	gateway *Gateway
	srv     *httptest.Server
	hook    *receiver
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock()}
	h.cfg = DefaultConfig()
	h.cfg.PlatformNumbers = []string{testPlatform, testPlatform2}
	h.cfg.Clock = h.clock.Now
	h.cfg.StatusDelay = time.Millisecond
	h.cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h.hook = newReceiver(t, h.cfg.AuthToken)
	h.cfg.SMSWebhookURL = h.hook.srv.URL + "/twilio/sms?tenant=t1"
	h.carrier = NewCarrier(h.cfg, nil)
	h.gateway = NewGateway(h.cfg)
	e := echo.New()
	h.carrier.Register(e)
	h.gateway.Register(e)
	h.srv = httptest.NewServer(e)
	t.Cleanup(func() {
		h.srv.Close()
		h.carrier.Close()
	})
	return h
}

// rewrite sends api.twilio.com requests to the simulator.
type rewrite struct{ target *url.URL }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host, r2.Host = rw.target.Scheme, rw.target.Host, rw.target.Host
	return http.DefaultTransport.RoundTrip(r2)
}

// twilioAPI returns the real twilio-go Messaging API pointed at the simulator.
func (h *harness) twilioAPI(username, password string, timeout time.Duration) *openapi.ApiService {
	target, _ := url.Parse(h.srv.URL)
	c := &client.Client{
		Credentials: client.NewCredentials(username, password),
		HTTPClient:  &http.Client{Transport: rewrite{target}, Timeout: timeout},
	}
	c.SetAccountSid(h.cfg.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{
		Username: username, Password: password, AccountSid: h.cfg.AccountSID, Client: c,
	})
	return rc.Api
}

func (h *harness) api() *openapi.ApiService {
	return h.twilioAPI(h.cfg.AccountSID, h.cfg.AuthToken, 10*time.Second)
}

// send creates a message through twilio-go.
func (h *harness) send(api *openapi.ApiService, from, to, body, callback string) (*openapi.ApiV2010Message, error) {
	p := &openapi.CreateMessageParams{}
	p.SetFrom(from)
	p.SetTo(to)
	p.SetBody(body)
	if callback != "" {
		p.SetStatusCallback(callback)
	}
	return api.CreateMessage(p)
}

// control calls a control route and decodes the JSON answer into out.
func (h *harness) control(method, path string, in, out any) int {
	h.t.Helper()
	var rd io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			h.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// statuses lists (status, ErrorCode) of hits in order.
func statuses(hits []hit) []string {
	out := make([]string, 0, len(hits))
	for _, h := range hits {
		s := h.form.Get("MessageStatus")
		if c := h.form.Get("ErrorCode"); c != "" {
			s += "/" + c
		}
		out = append(out, s)
	}
	return out
}

// waitStatus polls until the carrier's record of sid has status.
func (h *harness) waitStatus(sid, status string) Message {
	h.t.Helper()
	var m Message
	waitUntil(h.t, func() bool {
		var err error
		m, err = h.carrier.Message(sid)
		return err == nil && m.Status == status
	})
	return m
}
