package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// maxResponseBytes bounds how much of a gateway response is read.
const maxResponseBytes = 1 << 20

// HTTPGateway is the Gateway client for the gateway's HTTP/JSON protocol.
type HTTPGateway struct {
	cfg Config
	hc  *http.Client
	log *slog.Logger
}

var _ Gateway = (*HTTPGateway)(nil)

// NewHTTPGateway returns a client for the gateway at cfg.BaseURL. hc may be
// nil (http.DefaultClient); its own Timeout should be zero or larger than
// cfg.Timeout, which is applied per request.
func NewHTTPGateway(cfg Config, hc *http.Client) *HTTPGateway {
	if hc == nil {
		hc = http.DefaultClient
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultConfig().Timeout
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &HTTPGateway{cfg: cfg, hc: hc, log: slog.Default().With("component", "payment")}
}

// Charge posts the charge once. When the outcome is unknown (timeout,
// connection error, 5xx) it looks the key up instead of posting again: a
// recorded outcome is returned as if the POST had answered, and a key the
// gateway never recorded yields ErrUnavailable.
func (g *HTTPGateway) Charge(ctx context.Context, req ChargeRequest) (Charge, error) {
	if req.IdempotencyKey == "" {
		return Charge{}, fmt.Errorf("%w: idempotency key is required", ErrInvalidRequest)
	}
	body, err := json.Marshal(chargeBody{
		IdempotencyKey: req.IdempotencyKey,
		CardToken:      req.CardToken,
		AmountMinor:    req.AmountMinor,
		Currency:       req.Currency,
		Description:    req.Description,
	})
	if err != nil {
		return Charge{}, fmt.Errorf("payment: encode charge: %w", err)
	}
	status, payload, err := g.do(ctx, http.MethodPost, g.cfg.BaseURL+"/v1/charges", req.IdempotencyKey, body)
	if err != nil {
		return g.resolve(ctx, req.IdempotencyKey, err)
	}
	if status >= 500 {
		return g.resolve(ctx, req.IdempotencyKey, fmt.Errorf("gateway answered %d: %s", status, errorMessage(payload)))
	}
	ch, err := decodeOutcome(status, payload)
	if err == nil {
		g.log.InfoContext(ctx, "payment charged", "key", req.IdempotencyKey, "charge", ch.ID,
			"amount_minor", ch.AmountMinor, "currency", ch.Currency)
	}
	return ch, err
}

// Lookup fetches the outcome recorded for an idempotency key.
func (g *HTTPGateway) Lookup(ctx context.Context, idempotencyKey string) (Charge, error) {
	if idempotencyKey == "" {
		return Charge{}, fmt.Errorf("%w: idempotency key is required", ErrInvalidRequest)
	}
	status, payload, err := g.do(ctx, http.MethodGet,
		g.cfg.BaseURL+"/v1/charges/"+url.PathEscape(idempotencyKey), "", nil)
	if err != nil {
		return Charge{}, fmt.Errorf("%w: lookup: %w", ErrUnavailable, err)
	}
	if status >= 500 {
		return Charge{}, fmt.Errorf("%w: lookup answered %d: %s", ErrUnavailable, status, errorMessage(payload))
	}
	return decodeOutcome(status, payload)
}

// resolve settles an ambiguous charge by looking its key up.
func (g *HTTPGateway) resolve(ctx context.Context, key string, cause error) (Charge, error) {
	ch, err := g.Lookup(ctx, key)
	switch {
	case err == nil:
		g.log.InfoContext(ctx, "payment outcome resolved by lookup", "key", key, "charge", ch.ID, "cause", cause.Error())
		return ch, nil
	case errors.Is(err, ErrNotFound):
		g.log.WarnContext(ctx, "payment not recorded by gateway", "key", key, "cause", cause.Error())
		return Charge{}, fmt.Errorf("%w: charge not recorded (%v)", ErrUnavailable, cause)
	case IsDecline(err):
		return Charge{}, err
	default:
		g.log.WarnContext(ctx, "payment outcome unknown", "key", key, "cause", cause.Error(), "lookup", err.Error())
		return Charge{}, fmt.Errorf("%w: %w (%v); %w", ErrUnavailable, ErrOutcomeUnknown, cause, err)
	}
}

// do sends one request under the per-request timeout and reads the answer.
func (g *HTTPGateway) do(ctx context.Context, method, target, key string, body []byte) (int, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, target, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+g.cfg.APIKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := g.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, payload, nil
}

// decodeOutcome turns a non-5xx answer into a charge or a sentinel error.
func decodeOutcome(status int, payload []byte) (Charge, error) {
	if status == http.StatusOK || status == http.StatusCreated {
		var cj chargeJSON
		// A 2xx answer we cannot read may stand for money taken.
		if err := json.Unmarshal(payload, &cj); err != nil {
			return Charge{}, fmt.Errorf("%w: decode charge: %v", ErrOutcomeUnknown, err)
		}
		if cj.Status != StatusSucceeded {
			return Charge{}, fmt.Errorf("%w: unexpected charge status %q", ErrOutcomeUnknown, cj.Status)
		}
		return cj.charge(), nil
	}
	var ej errorJSON
	_ = json.Unmarshal(payload, &ej)
	sentinel := errorForCode(ej.Error.Code)
	if sentinel == nil {
		switch status {
		case http.StatusPaymentRequired:
			sentinel = ErrDeclined
		case http.StatusUnauthorized, http.StatusForbidden:
			sentinel = ErrUnauthorized
		case http.StatusNotFound:
			sentinel = ErrNotFound
		case http.StatusConflict:
			sentinel = ErrIdempotencyMismatch
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			sentinel = ErrInvalidRequest
		default:
			return Charge{}, fmt.Errorf("payment: unexpected gateway status %d: %s", status, errorMessage(payload))
		}
	}
	if ej.Error.Message == "" {
		return Charge{}, sentinel
	}
	return Charge{}, fmt.Errorf("%w: %s", sentinel, ej.Error.Message)
}

// errorMessage extracts a short description from an error payload.
func errorMessage(payload []byte) string {
	var ej errorJSON
	if err := json.Unmarshal(payload, &ej); err == nil && ej.Error.Code != "" {
		if ej.Error.Message != "" {
			return ej.Error.Code + ": " + ej.Error.Message
		}
		return ej.Error.Code
	}
	const max = 200
	s := strings.TrimSpace(string(payload))
	if len(s) > max {
		s = s[:max]
	}
	return s
}
