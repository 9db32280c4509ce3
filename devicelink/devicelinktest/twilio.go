package devicelinktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
)

// Call is one call request received by a CallsServer.
type Call struct {
	// AccountSID is the account in the request path.
	AccountSID string
	// Form is the request's form (To, From, Twiml, Timeout, StatusCallback...).
	Form url.Values
}

// CallsServer is a tiny Twilio Calls API (POST
// /2010-04-01/Accounts/{sid}/Calls.json) for tests of code that places calls
// with twilio-go. OnCall decides each answer.
type CallsServer struct {
	*httptest.Server
	// OnCall returns the new call's sid and status, or an error answered as
	// a Twilio error (code 21211, HTTP 400). Nil answers "CA<n>", "queued".
	OnCall func(c Call) (sid, status string, err error)

	mu    sync.Mutex
	calls []Call
}

// NewCallsServer starts a CallsServer; it is closed by Close.
func NewCallsServer() *CallsServer {
	s := &CallsServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *CallsServer) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 4 || parts[0] != "2010-04-01" || parts[1] != "Accounts" || parts[3] != "Calls.json" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := Call{AccountSID: parts[2], Form: r.PostForm}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	n := len(s.calls)
	on := s.OnCall
	s.mu.Unlock()
	sid, status := fmt.Sprintf("CA%032d", n), "queued"
	if on != nil {
		var err error
		if sid, status, err = on(c); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"code": 21211, "message": err.Error(), "status": 400})
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": sid, "status": status, "to": c.Form.Get("To"), "from": c.Form.Get("From"), "account_sid": c.AccountSID,
	})
}

// Calls returns the call requests received, in order.
func (s *CallsServer) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Client returns a twilio-go client whose requests to *.twilio.com go to
// the server.
func (s *CallsServer) Client(accountSID, authToken string) *twilio.RestClient {
	target, _ := url.Parse(s.URL)
	hc := &http.Client{Transport: &rewrite{target: target}}
	c := &twclient.Client{Credentials: twclient.NewCredentials(accountSID, authToken), HTTPClient: hc}
	c.SetAccountSid(accountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{
		Username: accountSID, Password: authToken, AccountSid: accountSID, Client: c,
	})
}

// rewrite sends requests for Twilio hosts to target.
type rewrite struct{ target *url.URL }

// RoundTrip implements http.RoundTripper.
func (r *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Hostname(), "twilio.com") {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
		req.Host = r.target.Host
	}
	return http.DefaultTransport.RoundTrip(req)
}
