// Package paymenttest provides an in-memory payment.Gateway for tests.
package paymenttest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"ppprenew/workflows/payment"
)

// Gateway is an in-memory, idempotent payment.Gateway. Outcomes are scripted
// per card token with SetOutcome; unscripted cards succeed.
type Gateway struct {
	mu       sync.Mutex
	now      func() time.Time
	outcomes map[string][]error
	byKey    map[string]entry
	requests []payment.ChargeRequest
	charges  []payment.Charge
	seq      int
}

var _ payment.Gateway = (*Gateway)(nil)

type entry struct {
	req    payment.ChargeRequest
	charge payment.Charge
	err    error
}

// NewGateway returns an empty fake whose charges are stamped with now
// (time.Now when nil).
func NewGateway(now func() time.Time) *Gateway {
	if now == nil {
		now = time.Now
	}
	return &Gateway{now: now, outcomes: map[string][]error{}, byKey: map[string]entry{}}
}

// SetOutcome queues errors for the next charges of a card, one per new
// idempotency key, e.g. payment.ErrDeclined or payment.ErrUnavailable. A nil
// entry means success. ErrUnavailable is not recorded, as with the real
// gateway, so a retry with the same key takes the next outcome.
func (g *Gateway) SetOutcome(cardToken string, errs ...error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.outcomes[cardToken] = append(g.outcomes[cardToken], errs...)
}

// Charge implements payment.Gateway.
func (g *Gateway) Charge(_ context.Context, req payment.ChargeRequest) (payment.Charge, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = append(g.requests, req)
	if e, ok := g.byKey[req.IdempotencyKey]; ok {
		if e.req != req {
			return payment.Charge{}, fmt.Errorf("%w: key %s", payment.ErrIdempotencyMismatch, req.IdempotencyKey)
		}
		return e.charge, e.err
	}
	var err error
	if q := g.outcomes[req.CardToken]; len(q) > 0 {
		err, g.outcomes[req.CardToken] = q[0], q[1:]
	}
	if payment.Retryable(err) {
		return payment.Charge{}, err
	}
	var ch payment.Charge
	if err == nil {
		g.seq++
		ch = payment.Charge{
			ID:             fmt.Sprintf("ch_fake_%d", g.seq),
			IdempotencyKey: req.IdempotencyKey,
			Status:         payment.StatusSucceeded,
			AmountMinor:    req.AmountMinor,
			Currency:       req.Currency,
			CreatedAt:      g.now(),
		}
		g.charges = append(g.charges, ch)
	}
	g.byKey[req.IdempotencyKey] = entry{req: req, charge: ch, err: err}
	return ch, err
}

// Lookup implements payment.Gateway.
func (g *Gateway) Lookup(_ context.Context, key string) (payment.Charge, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.byKey[key]
	if !ok {
		return payment.Charge{}, payment.ErrNotFound
	}
	return e.charge, e.err
}

// Charges returns every successful charge, oldest first.
func (g *Gateway) Charges() []payment.Charge {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]payment.Charge(nil), g.charges...)
}

// Requests returns every Charge call received, including repeats.
func (g *Gateway) Requests() []payment.ChargeRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]payment.ChargeRequest(nil), g.requests...)
}
