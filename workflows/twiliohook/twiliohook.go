// Package twiliohook verifies that webhooks come from Twilio (or the
// simulated carrier, which signs the same way) before any handler runs.
//
// The signed URL is the configured public base URL plus the request's path
// and query, never the Host header: TLS is usually terminated at a proxy.
// Form parameters are taken from the POST body only; echo's FormParams merges
// the query in and would break the signature.
package twiliohook

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twilio/twilio-go/client"
)

// FormKey is the echo context key under which the verified POST form is
// stored for handlers.
const FormKey = "twilio.form"

// Config configures the verifier.
type Config struct {
	// PublicURL is the externally visible base URL, e.g. https://ppp.example.com.
	PublicURL string
	// AuthToken is the Twilio auth token that signs webhooks.
	AuthToken string
	// MaxBodyBytes bounds a webhook body; larger bodies get 413.
	MaxBodyBytes int64
	// Rejected counts refused webhooks by route and reason; nil disables it.
	Rejected *prometheus.CounterVec
	// Log receives one line per refused webhook.
	Log *slog.Logger
}

// DefaultConfig returns a verifier config with a 64 KiB body limit.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 64 << 10, Log: slog.Default()}
}

// NewRejectedCounter returns the counter Config.Rejected expects.
func NewRejectedCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ppp_webhook_rejected_total", Help: "Webhooks refused before handling, by route and reason.",
	}, []string{"route", "reason"})
}

// Errors that explain a refusal (in logs and the metric, never to the caller).
var (
	ErrMissingSignature = errors.New("missing X-Twilio-Signature")
	ErrBadSignature     = errors.New("signature does not match")
	ErrTooLarge         = errors.New("body too large")
)

// Middleware refuses requests whose X-Twilio-Signature does not verify with
// 403 (413 for oversized bodies) and stores the verified form in the context.
func Middleware(cfg Config) echo.MiddlewareFunc {
	validator := client.NewRequestValidator(cfg.AuthToken)
	base := strings.TrimRight(cfg.PublicURL, "/")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			body, err := io.ReadAll(io.LimitReader(req.Body, cfg.MaxBodyBytes+1))
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "unreadable body")
			}
			if int64(len(body)) > cfg.MaxBodyBytes {
				refuse(cfg, c, ErrTooLarge)
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "body too large")
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			sig := req.Header.Get("X-Twilio-Signature")
			if sig == "" {
				refuse(cfg, c, ErrMissingSignature)
				return echo.NewHTTPError(http.StatusForbidden, "forbidden")
			}
			full := base + req.URL.RequestURI()
			form, ok := verify(&validator, full, body, req.Header.Get(echo.HeaderContentType), sig)
			if !ok {
				refuse(cfg, c, ErrBadSignature)
				return echo.NewHTTPError(http.StatusForbidden, "forbidden")
			}
			c.Set(FormKey, form)
			return next(c)
		}
	}
}

func verify(v *client.RequestValidator, fullURL string, body []byte, contentType, sig string) (url.Values, bool) {
	u, err := url.Parse(fullURL)
	if err != nil {
		return nil, false
	}
	if u.Query().Get("bodySHA256") != "" {
		return url.Values{}, v.ValidateBody(fullURL, body, sig)
	}
	if contentType != "" && !strings.HasPrefix(contentType, echo.MIMEApplicationForm) {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, false
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		params[k] = vs[0]
	}
	return form, v.Validate(fullURL, params, sig)
}

func refuse(cfg Config, c echo.Context, reason error) {
	if cfg.Rejected != nil {
		cfg.Rejected.WithLabelValues(c.Path(), reason.Error()).Inc()
	}
	if cfg.Log != nil {
		cfg.Log.WarnContext(c.Request().Context(), "webhook refused", "route", c.Path(), "reason", reason.Error(), "remote", c.RealIP())
	}
}

// Form returns the verified POST form of a request that passed Middleware.
func Form(c echo.Context) url.Values {
	if f, ok := c.Get(FormKey).(url.Values); ok {
		return f
	}
	return url.Values{}
}
