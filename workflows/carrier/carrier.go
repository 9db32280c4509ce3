// Package carrier builds the twilio-go REST client for the real Twilio API or
// for the simulated carrier. twilio-go's base URL is not configurable, so for
// the simulator the client's transport rewrites Twilio's hosts to it.
package carrier

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
)

// Config selects and authenticates the carrier.
type Config struct {
	// AccountSID and AuthToken authenticate REST calls.
	AccountSID string
	AuthToken  string
	// BaseURL, when set, sends every Twilio API request to this base URL
	// (the simulated carrier) instead of *.twilio.com.
	BaseURL string
	// Timeout bounds each REST call.
	Timeout time.Duration
}

// DefaultConfig returns a 10 s timeout and the real Twilio API.
func DefaultConfig() Config { return Config{Timeout: 10 * time.Second} }

// NewRestClient returns a twilio-go client for cfg.
func NewRestClient(cfg Config) *twilio.RestClient {
	hc := &http.Client{Timeout: cfg.Timeout}
	if cfg.BaseURL != "" {
		if target, err := url.Parse(cfg.BaseURL); err == nil {
			hc.Transport = &rewrite{target: target, next: http.DefaultTransport}
		}
	}
	c := &client.Client{Credentials: client.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: hc}
	c.SetAccountSid(cfg.AccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{
		Username: cfg.AccountSID, Password: cfg.AuthToken, AccountSid: cfg.AccountSID, Client: c,
	})
}

// rewrite sends requests for Twilio hosts to target.
type rewrite struct {
	target *url.URL
	next   http.RoundTripper
}

func (r *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Hostname(), "twilio.com") {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
		req.URL.Path = strings.TrimRight(r.target.Path, "/") + req.URL.Path
		req.Host = r.target.Host
	}
	return r.next.RoundTrip(req)
}

// Development credentials, used only with the simulated carrier
// (PPP_CARRIER=sim) when none are set. The server and the simulated world
// both default to them, so `make run` needs no configuration; the server
// refuses them with the real carrier.
const (
	DevAccountSID = "AC00000000000000000000000000000dev"
	DevAuthToken  = "devtoken00000000000000000000000"
	DevAdminToken = "dev-admin-token"
	DevPaymentKey = "sk_sim_local"
)
