package sim

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

const (
	testFCMToken  = "dGVzdC1pbnN0YW5jZQ:APA91b-test-device-0001"
	testAPNsToken = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f01"
)

// pushHarness is a push simulator on its own Echo server.
type pushHarness struct {
	t    *testing.T
	ps   *PushSim
	srv  *httptest.Server
	h2   *http.Client
	base string
}

func newPushHarness(t *testing.T, mutate ...func(*PushConfig)) *pushHarness {
	t.Helper()
	e := echo.New()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	cfg := DefaultPushConfig()
	cfg.SimURL, cfg.Logger, cfg.AppRetryDelay = srv.URL, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Millisecond
	cfg.Clock = newFakeClock().Now
	for _, m := range mutate {
		m(&cfg)
	}
	ps := NewPushSim(cfg)
	t.Cleanup(ps.Close)
	ps.Register(e)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ps.CertPool()}, ForceAttemptHTTP2: true, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP2(true)
	h2 := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	return &pushHarness{t: t, ps: ps, srv: srv, h2: h2, base: srv.URL}
}

// result is an HTTP answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

func doRequest(t *testing.T, c *http.Client, method, url string, header map[string]string, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return result{status: res.StatusCode, header: res.Header, body: b}
}

// fcmSend posts an FCM v1 send for a token.
func (h *pushHarness) fcmSend(project, token, extra string) result {
	body := `{"message":{"token":"` + token + `","notification":{"title":"T","body":"B"},"data":{"conv":"c-1","template":"notice"}` + extra + `}}`
	return doRequest(h.t, http.DefaultClient, "POST", h.base+"/fcm/v1/projects/"+project+"/messages:send", map[string]string{"Content-Type": "application/json"}, body)
}

// apnsSend posts an APNs push over HTTP/2.
func (h *pushHarness) apnsSend(token string, header map[string]string, body string) result {
	return doRequest(h.t, h.h2, "POST", h.ps.APNsURL()+"/3/device/"+token, header, body)
}

// appServer is a hand-written stand-in for the server's app API: it
// records every request and answers from a script of statuses.
type appServer struct {
	mu       sync.Mutex
	srv      *httptest.Server
	bearer   string
	requests []appRequest
	// answerStatuses are the statuses of successive answer requests (200
	// when exhausted).
	answerStatuses []int
	seen           map[string][]byte
}

type appRequest struct {
	method, path, key, auth string
	body                    string
}

func newAppServer(t *testing.T, bearer string) *appServer {
	a := &appServer{bearer: bearer, seen: map[string][]byte{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *appServer) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, appRequest{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), r.Header.Get("Authorization"), string(b)})
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+a.bearer {
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"error":{"code":"invalid_token","message":"no"}}`))
		return
	}
	if r.URL.Path == "/app/v1/devices" {
		w.WriteHeader(201)
		_, _ = w.Write(b)
		return
	}
	status := 200
	if len(a.answerStatuses) > 0 {
		status, a.answerStatuses = a.answerStatuses[0], a.answerStatuses[1:]
	}
	key := r.Header.Get("Idempotency-Key")
	if prev, ok := a.seen[key]; ok && status == 200 {
		w.Header().Set("Idempotent-Replayed", "true")
		_, _ = w.Write(prev)
		return
	}
	if status != 200 {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":{"code":"busy","message":"try again"}}`))
		return
	}
	out := []byte(`{"phase":"quoted","session":{"quote":{"id":"q-1"}},"messages":["Extend bay 7?"]}`)
	if strings.HasSuffix(r.URL.Path, "/renew") {
		out = []byte(`{"phase":"charging","session":{"quote":{"id":"q-1"}},"messages":[]}`)
	}
	a.seen[key] = out
	_, _ = w.Write(out)
}

func (a *appServer) all() []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]appRequest(nil), a.requests...)
}

func (a *appServer) answers() []appRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []appRequest
	for _, r := range a.requests {
		if r.path != "/app/v1/devices" {
			out = append(out, r)
		}
	}
	return out
}
