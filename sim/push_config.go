package sim

import (
	"log/slog"
	"net/http"
	"time"
)

// PushConfig configures the simulated push services (FCM HTTP v1 and APNs)
// and the simulated apps.
type PushConfig struct {
	// SimURL is the simulator's base URL: the fake FCM is mounted on the
	// simulator's Echo, so FCMBase is SimURL + "/fcm/v1".
	SimURL string
	// FCMProject is the only Firebase project the fake FCM accepts; any
	// project when empty.
	FCMProject string
	// FCMAccessToken is the bearer token the fake FCM requires; none when
	// empty.
	FCMAccessToken string
	// APNsTopic is the only apns-topic (bundle id) the fake APNs accepts;
	// the header is then required. Any topic when empty.
	APNsTopic string
	// AppHTTPClient is what simulated apps call the server's app API with
	// (a client with a 15 s timeout when nil).
	AppHTTPClient *http.Client
	// AppRetries is how many times a simulated app sends an answer again,
	// with the same Idempotency-Key, after a network error, a 5xx or a 409
	// request_in_progress (default 3).
	AppRetries int
	// AppRetryDelay is the pause before each of those retries (default
	// 100ms).
	AppRetryDelay time.Duration
	// Clock stamps pushes and answers (time.Now when nil).
	Clock func() time.Time
	// Logger receives one line per push and per app action (slog.Default()
	// when nil).
	Logger *slog.Logger
}

// DefaultPushConfig returns the settings of a local simulator: project
// "ppp-sim", no credentials, any topic.
func DefaultPushConfig() PushConfig {
	return PushConfig{
		SimURL:        "http://127.0.0.1:8081",
		FCMProject:    "ppp-sim",
		AppRetries:    3,
		AppRetryDelay: 100 * time.Millisecond,
		Clock:         time.Now,
	}
}

// withDefaults fills zero fields from DefaultPushConfig (SimURL, project
// and credentials excepted).
func (c PushConfig) withDefaults() PushConfig {
	d := DefaultPushConfig()
	if c.AppHTTPClient == nil {
		c.AppHTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if c.AppRetries <= 0 {
		c.AppRetries = d.AppRetries
	}
	if c.AppRetryDelay <= 0 {
		c.AppRetryDelay = d.AppRetryDelay
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
