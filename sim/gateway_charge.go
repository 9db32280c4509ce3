package sim

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// payChargeBody is the JSON body of POST /pay/v1/charges.
type payChargeBody struct {
	IdempotencyKey string `json:"idempotency_key"`
	CardToken      string `json:"card_token"`
	AmountMinor    int64  `json:"amount_minor"`
	Currency       string `json:"currency"`
	Description    string `json:"description"`
}

// payCharge is the JSON of a successful charge.
type payCharge struct {
	ID             string    `json:"id"`
	IdempotencyKey string    `json:"idempotency_key"`
	Status         string    `json:"status"`
	AmountMinor    int64     `json:"amount_minor"`
	Currency       string    `json:"currency"`
	CreatedAt      time.Time `json:"created_at"`
}

// payError is the JSON of every gateway error.
type payError struct {
	Error payErrorBody `json:"error"`
}

type payErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// Gateway error codes.
const (
	payDeclined            = "declined"
	payInsufficientFunds   = "insufficient_funds"
	payExpiredCard         = "expired_card"
	payBlacklisted         = "blacklisted"
	payDebitNotSupported   = "debit_not_supported"
	payIdempotencyMismatch = "idempotency_mismatch"
	payUnavailable         = "unavailable"
	payNotFound            = "not_found"
	payUnauthorized        = "unauthorized"
	payInvalidRequest      = "invalid_request"
)

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

func writePayError(ec echo.Context, status int, code, msg string) error {
	return ec.JSON(status, payError{Error: payErrorBody{Code: code, Message: msg}})
}

// writeOutcome answers with a recorded outcome.
func writeOutcome(ec echo.Context, r ChargeRecord) error {
	if r.Status == chargeSucceeded {
		return ec.JSON(http.StatusOK, payCharge{
			ID: r.ID, IdempotencyKey: r.IdempotencyKey, Status: r.Status,
			AmountMinor: r.AmountMinor, Currency: r.Currency, CreatedAt: r.CreatedAt,
		})
	}
	return writePayError(ec, r.HTTPStatus, r.Code, r.Message)
}

// authorized checks the bearer key.
func (g *Gateway) authorized(r *http.Request) bool {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(key), []byte(g.cfg.GatewayAPIKey)) == 1
}

// handleCharge is POST /pay/v1/charges.
func (g *Gateway) handleCharge(ec echo.Context) error {
	r := ec.Request()
	if !g.authorized(r) {
		return writePayError(ec, http.StatusUnauthorized, payUnauthorized, "invalid API key")
	}
	var b payChargeBody
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	if err := dec.Decode(&b); err != nil {
		return writePayError(ec, http.StatusBadRequest, payInvalidRequest, "body must be a JSON charge")
	}
	hdr := r.Header.Get("Idempotency-Key")
	if b.IdempotencyKey == "" {
		b.IdempotencyKey = hdr
	}
	switch {
	case b.IdempotencyKey == "":
		return writePayError(ec, http.StatusBadRequest, payInvalidRequest, "Idempotency-Key is required")
	case hdr != "" && hdr != b.IdempotencyKey:
		return writePayError(ec, http.StatusBadRequest, payInvalidRequest, "Idempotency-Key header and body differ")
	case b.CardToken == "":
		return writePayError(ec, http.StatusBadRequest, payInvalidRequest, "card_token is required")
	case b.AmountMinor <= 0:
		return writePayError(ec, http.StatusBadRequest, payInvalidRequest, "amount_minor must be positive")
	case !currencyPattern.MatchString(b.Currency):
		return writePayError(ec, http.StatusBadRequest, payInvalidRequest, "currency must be an ISO 4217 code")
	}

	rec, delay, status := g.charge(b)
	switch status {
	case http.StatusConflict:
		return writePayError(ec, http.StatusConflict, payIdempotencyMismatch,
			"idempotency key "+b.IdempotencyKey+" was used with a different request")
	case http.StatusServiceUnavailable:
		return writePayError(ec, http.StatusServiceUnavailable, payUnavailable, "gateway temporarily unavailable")
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return nil
		}
	}
	return writeOutcome(ec, rec)
}

// charge decides a charge under the lock. It returns the recorded outcome
// and how long to hold the answer, or a status of 409 (key reused with a
// different body) or 503 (not recorded).
func (g *Gateway) charge(b payChargeBody) (ChargeRecord, time.Duration, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.countRequestLocked(b)
	if prev, ok := g.byKey[b.IdempotencyKey]; ok {
		if g.recordsUnavailable(prev.CardToken) {
			return ChargeRecord{}, 0, http.StatusServiceUnavailable
		}
		if prev.CardToken != b.CardToken || prev.AmountMinor != b.AmountMinor ||
			prev.Currency != b.Currency || prev.Description != b.Description {
			g.log.Warn("sim payment idempotency mismatch", "key", b.IdempotencyKey)
			return ChargeRecord{}, 0, http.StatusConflict
		}
		g.log.Info("sim payment replayed", "key", b.IdempotencyKey, "status", prev.Status)
		return *prev, 0, http.StatusOK
	}
	card, known := g.cards[b.CardToken]
	var delay time.Duration
	if known {
		if card.UnavailableNext > 0 {
			card.UnavailableNext--
			g.log.Info("sim payment unavailable", "key", b.IdempotencyKey, "card", maskSecret(b.CardToken))
			return ChargeRecord{}, 0, http.StatusServiceUnavailable
		}
		if card.SlowNext.Count > 0 {
			card.SlowNext.Count--
			delay = time.Duration(card.SlowNext.DelayMS) * time.Millisecond
		}
	}
	rec := &ChargeRecord{
		IdempotencyKey: b.IdempotencyKey,
		CardToken:      b.CardToken,
		AmountMinor:    b.AmountMinor,
		Currency:       b.Currency,
		Description:    b.Description,
		HTTPStatus:     http.StatusPaymentRequired,
		Status:         chargeFailed,
		CreatedAt:      g.cfg.Clock().UTC(),
	}
	switch {
	case !known:
		rec.Code, rec.Message = payDeclined, "unknown card"
	case card.Blacklisted:
		rec.Code, rec.Message = payBlacklisted, "card is blacklisted"
	case card.Expired:
		rec.Code, rec.Message = payExpiredCard, "card has expired"
	case card.Kind == CardDebit:
		rec.Code, rec.Message = payDebitNotSupported, "debit cards cannot be charged remotely"
	case card.DeclineNext > 0:
		card.DeclineNext--
		rec.Code, rec.Message = payDeclined, "issuer declined the charge"
	case card.Kind == CardPrepaid && card.BalanceMinor < b.AmountMinor:
		rec.Code, rec.Message = payInsufficientFunds, fmt.Sprintf("balance %d is below %d", card.BalanceMinor, b.AmountMinor)
	default:
		if card.Kind == CardPrepaid {
			card.BalanceMinor -= b.AmountMinor
		}
		rec.ID, rec.Status, rec.HTTPStatus = newToken("ch_"), chargeSucceeded, http.StatusOK
	}
	g.byKey[b.IdempotencyKey] = rec
	g.charges = append(g.charges, rec)
	g.log.Info("sim payment charge", "key", b.IdempotencyKey, "card", maskSecret(b.CardToken),
		"amount_minor", b.AmountMinor, "currency", b.Currency, "status", rec.Status, "code", rec.Code, "delay", delay)
	return *rec, delay, http.StatusOK
}

// handleLookup is GET /pay/v1/charges/{idempotency_key}.
func (g *Gateway) handleLookup(ec echo.Context) error {
	if !g.authorized(ec.Request()) {
		return writePayError(ec, http.StatusUnauthorized, payUnauthorized, "invalid API key")
	}
	key, err := url.PathUnescape(ec.Param("key"))
	if err != nil {
		return writePayError(ec, http.StatusBadRequest, payInvalidRequest, "bad key")
	}
	g.mu.Lock()
	rec, ok := g.byKey[key]
	var cp ChargeRecord
	down := false
	if ok {
		cp = *rec
		down = g.recordsUnavailable(rec.CardToken)
	}
	g.mu.Unlock()
	if down {
		return writePayError(ec, http.StatusServiceUnavailable, payUnavailable, "charge records temporarily unavailable")
	}
	if !ok {
		return writePayError(ec, http.StatusNotFound, payNotFound, "no charge for this key")
	}
	return writeOutcome(ec, cp)
}

// recordsUnavailable consumes one of a card's RecordsUnavailableNext; the
// caller holds the lock.
func (g *Gateway) recordsUnavailable(token string) bool {
	card, ok := g.cards[token]
	if !ok || card.RecordsUnavailableNext <= 0 {
		return false
	}
	card.RecordsUnavailableNext--
	g.log.Info("sim payment records unavailable", "card", maskSecret(token))
	return true
}
