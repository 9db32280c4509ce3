package sim

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"
)

// ivrHit is one request the fake IVR server got.
type ivrHit struct {
	method, path, url string
	params            url.Values // POST form, or the query of a GET
	sigValid          bool
}

// ivrServer plays the platform's voice webhooks in tests: each path answers
// with TwiML built by twilio-go's twiml package; every request's signature
// is checked with twilio-go's validator.
type ivrServer struct {
	t      *testing.T
	srv    *httptest.Server
	token  string
	mu     sync.Mutex
	hits   []ivrHit
	routes map[string]func(url.Values) (int, string)
}

func newIVRServer(t *testing.T, token string) *ivrServer {
	s := &ivrServer{t: t, token: token, routes: map[string]func(url.Values) (int, string){}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("ivr parse form: %v", err)
		}
		full := s.srv.URL + r.URL.RequestURI()
		params := r.PostForm
		signed := map[string]string{}
		if r.Method == http.MethodGet {
			params = r.URL.Query()
		} else {
			for k := range r.PostForm {
				signed[k] = r.PostForm.Get(k)
			}
		}
		validator := client.NewRequestValidator(token)
		ok := validator.Validate(full, signed, r.Header.Get("X-Twilio-Signature"))
		s.mu.Lock()
		s.hits = append(s.hits, ivrHit{method: r.Method, path: r.URL.Path, url: full, params: params, sigValid: ok})
		route := s.routes[r.URL.Path]
		s.mu.Unlock()
		if route == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		status, body := route(params)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// handle sets the answer of a path.
func (s *ivrServer) handle(path string, fn func(url.Values) (int, string)) {
	s.mu.Lock()
	s.routes[path] = fn
	s.mu.Unlock()
}

// twiML answers a path with a fixed TwiML document built from verbs.
func (s *ivrServer) twiML(path string, verbs ...twiml.Element) {
	s.t.Helper()
	doc, err := twiml.Voice(verbs)
	if err != nil {
		s.t.Fatalf("twiml.Voice: %v", err)
	}
	s.handle(path, func(url.Values) (int, string) { return http.StatusOK, doc })
}

// hitsFor returns the requests for a path, in order.
func (s *ivrServer) hitsFor(path string) []ivrHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ivrHit
	for _, h := range s.hits {
		if h.path == path {
			out = append(out, h)
		}
	}
	return out
}

// voiceHarness runs a carrier with voice on an Echo server, an IVR server
// and a status callback receiver.
type voiceHarness struct {
	t       *testing.T
	cfg     Config
	clock   *fakeClock
	carrier *Carrier
	srv     *httptest.Server
	ivr     *ivrServer
	status  *receiver
}

func newVoiceHarness(t *testing.T, tune func(*Config)) *voiceHarness {
	t.Helper()
	h := &voiceHarness{t: t, clock: newFakeClock()}
	h.cfg = DefaultConfig()
	h.cfg.PlatformNumbers = []string{testPlatform, testPlatform2}
	h.cfg.Clock = h.clock.Now
	h.cfg.VoiceTick = time.Millisecond
	h.cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h.ivr = newIVRServer(t, h.cfg.AuthToken)
	h.status = newReceiver(t, h.cfg.AuthToken)
	h.cfg.VoiceWebhookURL = h.ivr.srv.URL + "/voice"
	h.cfg.VoiceStatusCallbackURL = h.status.srv.URL + "/twilio/voice/status"
	h.cfg.SMSWebhookURL = h.ivr.srv.URL + "/sms"
	if tune != nil {
		tune(&h.cfg)
	}
	h.carrier = NewCarrier(h.cfg, nil)
	e := echo.New()
	h.carrier.Register(e)
	h.srv = httptest.NewServer(e)
	t.Cleanup(func() {
		h.srv.Close()
		h.carrier.Close()
	})
	return h
}

// api returns the real twilio-go API pointed at the simulator.
func (h *voiceHarness) api() *openapi.ApiService {
	hh := &harness{cfg: h.cfg, srv: h.srv}
	return hh.twilioAPI(h.cfg.AccountSID, h.cfg.AuthToken, 10*time.Second)
}

// control calls a control route.
func (h *voiceHarness) control(method, path string, in, out any) int {
	h.t.Helper()
	hh := &harness{t: h.t, srv: h.srv}
	return hh.control(method, path, in, out)
}

// callParams builds CreateCallParams for a call from the first platform
// number to to, answered by the IVR server's path.
func (h *voiceHarness) createParams(to, path string) *openapi.CreateCallParams {
	p := &openapi.CreateCallParams{}
	p.SetTo(to)
	p.SetFrom(testPlatform)
	p.SetUrl(h.ivr.srv.URL + path)
	return p
}

// withStatus adds a status callback with every event.
func (h *voiceHarness) withStatus(p *openapi.CreateCallParams) *openapi.CreateCallParams {
	p.SetStatusCallback(h.status.srv.URL + "/twilio/voice/status?conv=c1")
	p.SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"})
	return p
}

// create places a call through twilio-go and returns its sid.
func (h *voiceHarness) create(p *openapi.CreateCallParams) string {
	h.t.Helper()
	c, err := h.api().CreateCall(p)
	if err != nil {
		h.t.Fatalf("CreateCall: %v", err)
	}
	return *c.Sid
}

// wait blocks until the call ended.
func (h *voiceHarness) wait(sid string) Call {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call, err := h.carrier.WaitCall(ctx, sid)
	if err != nil {
		h.t.Fatalf("WaitCall %s: %v (status %s)", sid, err, call.Status)
	}
	return call
}

// script sets a handset script.
func (h *voiceHarness) script(number string, s VoiceScript) {
	h.t.Helper()
	if _, err := h.carrier.SetVoiceScript(number, s); err != nil {
		h.t.Fatalf("SetVoiceScript: %v", err)
	}
}

// callbacks returns the status callbacks of a call in arrival order.
func (h *voiceHarness) callbacks(sid string) []hit {
	h.status.mu.Lock()
	defer h.status.mu.Unlock()
	var out []hit
	for _, hh := range h.status.hits {
		if hh.form.Get("CallSid") == sid {
			out = append(out, hh)
		}
	}
	return out
}

// callStatuses lists the CallStatus of each status callback.
func callStatuses(hits []hit) []string {
	out := []string{}
	for _, h := range hits {
		out = append(out, h.form.Get("CallStatus"))
	}
	return out
}

// shape lists transcript entries as "kind:text" for comparison.
func shape(c Call) []string {
	out := []string{}
	for _, e := range c.Transcript {
		out = append(out, e.Kind+":"+e.Text)
	}
	return out
}
