package push

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// idemKey is the accepted form of an Idempotency-Key: 1 to 255 visible
// ASCII characters.
var idemKey = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// answer is a handler's response before it is stored and written.
type answer struct {
	status int
	body   any
}

// idemRecord is what an Idempotency-Key holds: the request's fingerprint
// and, once answered, the response.
type idemRecord struct {
	Fingerprint string          `json:"fp"`
	Pending     bool            `json:"pending,omitempty"`
	Status      int             `json:"status,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`
}

// idempotent runs do at most once per user and Idempotency-Key. The first
// response (status and body) is stored for Config.IdempotencyTTL and
// written again for retries; a retry whose method, path or body differ is
// refused with 409 idempotency_key_reused, and one that arrives while the
// first still runs with 409 request_in_progress. 5xx answers are not
// stored, so a retry runs again.
func (a *AppAPI) idempotent(c echo.Context, user string, do func(body []byte) answer) error {
	ctx := c.Request().Context()
	key := c.Request().Header.Get(headerIdempotencyKey)
	if key == "" {
		return fail(c, http.StatusBadRequest, codeMissingIdemKey, "an Idempotency-Key header is required")
	}
	if !idemKey.MatchString(key) {
		return fail(c, http.StatusBadRequest, codeInvalidIdemKey, "the Idempotency-Key must be 1 to 255 visible ASCII characters")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxRequestBody))
	if err != nil {
		return fail(c, http.StatusBadRequest, codeInvalidJSON, "unreadable body")
	}
	fp := sha256Hex(c.Request().Method + " " + c.Request().URL.Path + "\n" + string(body))
	rkey := keyIdem(user, key)
	cfg := a.cfg()
	pending, _ := json.Marshal(idemRecord{Fingerprint: fp, Pending: true})
	locked := false
	for range 3 {
		fresh, err := a.Redis.SetNX(ctx, rkey, pending, cfg.IdempotencyLock).Result()
		if err != nil {
			return a.internal(c, "idempotency lock", err)
		}
		if fresh {
			locked = true
			break
		}
		raw, err := a.Redis.Get(ctx, rkey).Bytes()
		if errors.Is(err, redis.Nil) {
			continue // expired meanwhile
		}
		if err != nil {
			return a.internal(c, "idempotency lookup", err)
		}
		var rec idemRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return a.internal(c, "idempotency record", err)
		}
		switch {
		case rec.Fingerprint != fp:
			return fail(c, http.StatusConflict, codeKeyReused, "this Idempotency-Key was used with a different request")
		case rec.Pending:
			c.Response().Header().Set("Retry-After", "1")
			return fail(c, http.StatusConflict, codeInProgress, "a request with this Idempotency-Key is still running")
		}
		c.Response().Header().Set(headerReplayed, "true")
		return c.JSONBlob(rec.Status, rec.Body)
	}
	if !locked {
		c.Response().Header().Set("Retry-After", "1")
		return fail(c, http.StatusServiceUnavailable, codeBusy, "try again")
	}
	res := do(body)
	out, err := json.Marshal(res.body)
	if err != nil {
		a.Redis.Del(ctx, rkey)
		return a.internal(c, "encode answer", err)
	}
	if res.status >= 500 {
		a.Redis.Del(ctx, rkey)
		if res.status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", "1")
		}
	} else {
		rec, _ := json.Marshal(idemRecord{Fingerprint: fp, Status: res.status, Body: out})
		if err := a.Redis.Set(ctx, rkey, rec, cfg.IdempotencyTTL).Err(); err != nil {
			a.Log.ErrorContext(ctx, "store idempotent answer", "user", user, "err", err)
		}
	}
	return c.JSONBlob(res.status, out)
}

// internal logs err and answers 500.
func (a *AppAPI) internal(c echo.Context, what string, err error) error {
	a.Log.ErrorContext(c.Request().Context(), "app api: "+what, "err", err)
	return fail(c, http.StatusInternalServerError, codeInternal, "internal error")
}
