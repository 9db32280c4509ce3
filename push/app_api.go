package push

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// AppAPI is the app's authenticated reply API: device registration, the
// driver's open parking sessions, and answers to them. cmd mounts it under
// /app/v1.
type AppAPI struct {
	Config Config
	// Conversations are the driver's renewal conversations and registration.
	Conversations workflows.Conversations
	// Settings are the operator's languages, lead times and grace period.
	Settings *engine.Settings
	Devices  *Devices
	Redis    redis.UniversalClient
	Now      func() time.Time
	Log      *slog.Logger
}

// ctxUser is the echo context key of the authenticated user id.
const ctxUser = "ppp.push.user"

// Register mounts the routes on g; every route authenticates the bearer
// token and counts against the user's rate limit.
func (a *AppAPI) Register(g *echo.Group) {
	mw := []echo.MiddlewareFunc{a.authenticate, a.rateLimit}
	g.POST("/devices", a.handleRegisterDevice, mw...)
	g.GET("/devices", a.handleDevices, mw...)
	g.DELETE("/devices/:token", a.handleRemoveDevice, mw...)
	g.GET("/sessions", a.handleSessions, mw...)
	g.POST("/sessions/:id/answer", a.handleAnswer, mw...)
	g.POST("/sessions/:id/renew", a.handleRenew, mw...)
	g.POST("/sessions/:id/quote", a.handleQuote, mw...)
	a.registerPreferences(g, mw)
}

// Error codes of the app API; they are stable.
const (
	codeMissingToken    = "missing_token"
	codeInvalidToken    = "invalid_token"
	codeRateLimited     = "rate_limited"
	codeForbidden       = "forbidden"
	codeSessionNotFound = "session_not_found"
	codeDeviceNotFound  = "device_not_found"
	codeSessionClosed   = "session_closed"
	codeKeyReused       = "idempotency_key_reused"
	codeInProgress      = "request_in_progress"
	codeTooManyDevices  = "too_many_devices"
	codeInvalidJSON     = "invalid_json"
	codeInvalidAnswer   = "invalid_answer"
	codeInvalidPlatform = "invalid_platform"
	codeInvalidDevice   = "invalid_device_token"
	codeMissingIdemKey  = "missing_idempotency_key"
	codeInvalidIdemKey  = "invalid_idempotency_key"
	codeBusy            = "busy"
	codeInternal        = "internal"
	codeQuoteRequired   = "quote_required"
	codeQuoteChanged    = "quote_changed"
)

// Headers and limits of the app API.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	maxRequestBody       = 64 << 10
)

// APIError is the body of every error answer.
type APIError struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a stable code and a human-readable message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func apiError(code, msg string) APIError {
	return APIError{Error: ErrorDetail{Code: code, Message: msg}}
}

func fail(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, apiError(code, msg))
}

func (a *AppAPI) cfg() Config { return a.Config.withDefaults() }

// rateLimit counts the user's requests per clock minute in Redis, shared by
// every server replica; over the limit it answers 429 with Retry-After.
func (a *AppAPI) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		user := c.Get(ctxUser).(string)
		now := a.Now()
		key := keyRate(user, now.Unix()/60)
		var incr *redis.IntCmd
		_, err := a.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
			incr = p.Incr(ctx, key)
			p.Expire(ctx, key, 2*time.Minute)
			return nil
		})
		if err != nil {
			a.Log.ErrorContext(ctx, "app rate limit", "user", user, "err", err)
			return fail(c, http.StatusInternalServerError, codeInternal, "internal error")
		}
		if limit := a.cfg().RatePerMinute; incr.Val() > int64(limit) {
			c.Response().Header().Set("Retry-After", strconv.FormatInt(60-now.Unix()%60, 10))
			a.Log.InfoContext(ctx, "app rate limited", "user", user, "count", incr.Val())
			return fail(c, http.StatusTooManyRequests, codeRateLimited, "too many requests; at most "+strconv.Itoa(limit)+" per minute")
		}
		return next(c)
	}
}
