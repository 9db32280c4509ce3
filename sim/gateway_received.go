package sim

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// ChargeRequests counts every charge request the gateway received, before
// any de-duplication: a request replayed under a known idempotency key, one
// refused with idempotency_mismatch and one answered 503 each count once.
// The charge ledger (Charges) shows one record per key; these counters show
// a repeat.
type ChargeRequests struct {
	// Total counts every authorised, well-formed charge POST.
	Total int `json:"total"`
	// ByKey counts them per idempotency key.
	ByKey map[string]int `json:"by_key"`
	// ByCard counts them per card token (the token as sent).
	ByCard map[string]int `json:"by_card"`
}

// countRequestLocked records a received charge request; g.mu must be held.
func (g *Gateway) countRequestLocked(b payChargeBody) {
	g.received.Total++
	g.received.ByKey[b.IdempotencyKey]++
	g.received.ByCard[b.CardToken]++
}

// ReceivedCharges returns the received-request counters.
func (g *Gateway) ReceivedCharges() ChargeRequests {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := ChargeRequests{Total: g.received.Total, ByKey: map[string]int{}, ByCard: map[string]int{}}
	for k, n := range g.received.ByKey {
		out.ByKey[k] = n
	}
	for k, n := range g.received.ByCard {
		out.ByCard[k] = n
	}
	return out
}

// ReceivedForCard is how many charge requests named the card token.
func (g *Gateway) ReceivedForCard(token string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.received.ByCard[token]
}

// ReceivedForKey is how many charge requests carried the idempotency key.
func (g *Gateway) ReceivedForKey(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.received.ByKey[key]
}

// handleReceived is GET /sim/v1/charges/received.
func (g *Gateway) handleReceived(ec echo.Context) error {
	return ec.JSON(http.StatusOK, g.ReceivedCharges())
}
