package payment

import (
	"errors"
	"net/url"
	"time"
)

// Config configures HTTPGateway.
type Config struct {
	// BaseURL is the gateway's base URL without the /v1 suffix, e.g.
	// "https://pay.example.com" or the simulator's "http://127.0.0.1:8080/pay".
	BaseURL string
	// APIKey is the bearer key the gateway accepts.
	APIKey string
	// Timeout bounds each HTTP request (the charge and the lookup separately).
	Timeout time.Duration
}

// DefaultConfig returns a Config with a 5 s per-request timeout. BaseURL and
// APIKey must be set by the caller.
func DefaultConfig() Config {
	return Config{Timeout: 5 * time.Second}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return errors.New("payment: BaseURL is required")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("payment: BaseURL must be an absolute http(s) URL")
	}
	if c.APIKey == "" {
		return errors.New("payment: APIKey is required")
	}
	if c.Timeout <= 0 {
		return errors.New("payment: Timeout must be positive")
	}
	return nil
}
