package push

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
)

// appTokenPrefix marks app bearer tokens, so leaked ones are recognisable.
const appTokenPrefix = "ppa_"

// IssueToken creates a bearer token for a registered user's app: 32 random
// bytes, of which only the SHA-256 hash is stored. It returns
// ErrUnknownUser for a user that is not registered.
func (a *AppAPI) IssueToken(ctx context.Context, userID string) (string, error) {
	if _, err := a.Conversations.Driver(ctx, userID); errors.Is(err, workflows.ErrNotFound) {
		return "", fmt.Errorf("%w: %s", ErrUnknownUser, userID)
	} else if err != nil {
		return "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := appTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	if err := a.Redis.Set(ctx, keyAppToken(sha256Hex(tok)), userID, a.cfg().TokenTTL).Err(); err != nil {
		return "", err
	}
	a.Log.InfoContext(ctx, "app token issued", "user", userID)
	return tok, nil
}

// RevokeToken makes an app bearer token unusable.
func (a *AppAPI) RevokeToken(ctx context.Context, token string) error {
	return a.Redis.Del(ctx, keyAppToken(sha256Hex(token))).Err()
}

// TokenUser returns the user id of an app bearer token, or
// ErrUnauthenticated.
func (a *AppAPI) TokenUser(ctx context.Context, token string) (string, error) {
	user, err := a.Redis.Get(ctx, keyAppToken(sha256Hex(token))).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrUnauthenticated
	}
	return user, err
}

// authenticate resolves "Authorization: Bearer <token>" to the user, or
// answers 401.
func (a *AppAPI) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, tok, _ := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ppp-app"`)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return fail(c, http.StatusUnauthorized, codeMissingToken, "an app bearer token is required")
		}
		user, err := a.TokenUser(c.Request().Context(), tok)
		if errors.Is(err, ErrUnauthenticated) {
			return fail(c, http.StatusUnauthorized, codeInvalidToken, "the app token is unknown or revoked")
		}
		if err != nil {
			a.Log.ErrorContext(c.Request().Context(), "app token lookup", "err", err)
			return fail(c, http.StatusInternalServerError, codeInternal, "internal error")
		}
		c.Response().Header().Del(echo.HeaderWWWAuthenticate)
		c.Set(ctxUser, user)
		return next(c)
	}
}
