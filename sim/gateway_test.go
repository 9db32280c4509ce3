package sim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"ppprenew/workflows/payment"
)

// payClient returns the real payment client pointed at the simulator.
func (h *harness) payClient(timeout time.Duration) *payment.HTTPGateway {
	cfg := payment.DefaultConfig()
	cfg.BaseURL = h.srv.URL + "/pay"
	cfg.APIKey = h.cfg.GatewayAPIKey
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	return payment.NewHTTPGateway(cfg, nil)
}

// addCard registers a card through the control API.
func (h *harness) addCard(c Card) Card {
	h.t.Helper()
	var out Card
	if st := h.control("POST", "/sim/v1/cards", c, &out); st != http.StatusCreated {
		h.t.Fatalf("add card status %d", st)
	}
	if !strings.HasPrefix(out.Token, "tok_") {
		h.t.Fatalf("token = %q", out.Token)
	}
	return out
}

func chargeReq(key, token string, amount int64) payment.ChargeRequest {
	return payment.ChargeRequest{IdempotencyKey: key, CardToken: token, Currency: "HKD", Description: "bay 12 +30 min", AmountMinor: amount}
}

func TestGatewaySuccessAndPrepaidBalance(t *testing.T) {
	h := newHarness(t)
	card := h.addCard(Card{Kind: CardPrepaid, Last4: "1111", BalanceMinor: 5000})
	pay := h.payClient(0)
	ch, err := pay.Charge(context.Background(), chargeReq("conv1-v3-charge", card.Token, 1500))
	if err != nil {
		t.Fatalf("Charge: %v", err)
	}
	if !strings.HasPrefix(ch.ID, "ch_") || ch.Status != payment.StatusSucceeded || ch.AmountMinor != 1500 ||
		ch.Currency != "HKD" || ch.IdempotencyKey != "conv1-v3-charge" || !ch.CreatedAt.Equal(h.clock.Now()) {
		t.Fatalf("charge = %+v", ch)
	}
	var got Card
	h.control("GET", "/sim/v1/cards/"+card.Token, nil, &got)
	if got.BalanceMinor != 3500 {
		t.Fatalf("balance = %d, want 3500", got.BalanceMinor)
	}
	looked, err := pay.Lookup(context.Background(), "conv1-v3-charge")
	if err != nil || looked != ch {
		t.Fatalf("Lookup = %+v, %v; want %+v", looked, err, ch)
	}
	if _, err := pay.Lookup(context.Background(), "never-used"); !errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("Lookup unknown = %v", err)
	}
}

func TestGatewayDeclineClasses(t *testing.T) {
	tests := []struct {
		name   string
		card   Card
		amount int64
		want   error
	}{
		{"debit", Card{Kind: CardDebit}, 100, payment.ErrDebitNotSupported},
		{"expired", Card{Kind: CardCredit, Expired: true}, 100, payment.ErrCardExpired},
		{"blacklisted", Card{Kind: CardCredit, Blacklisted: true}, 100, payment.ErrBlacklisted},
		{"blacklisted beats expired", Card{Kind: CardCredit, Blacklisted: true, Expired: true}, 100, payment.ErrBlacklisted},
		{"prepaid short", Card{Kind: CardPrepaid, BalanceMinor: 99}, 100, payment.ErrInsufficientFunds},
		{"decline next", Card{Kind: CardCredit, DeclineNext: 1}, 100, payment.ErrDeclined},
		{"unknown card", Card{Token: "missing"}, 100, payment.ErrDeclined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			token := tt.card.Token
			if token == "" {
				token = h.addCard(tt.card).Token
			}
			pay := h.payClient(0)
			_, err := pay.Charge(context.Background(), chargeReq("k-"+tt.name, token, tt.amount))
			if !errors.Is(err, tt.want) || payment.Retryable(err) {
				t.Fatalf("err = %v, want %v (not retryable)", err, tt.want)
			}
			// The same key replays the same decline; the lookup agrees.
			if _, err2 := pay.Charge(context.Background(), chargeReq("k-"+tt.name, token, tt.amount)); !errors.Is(err2, tt.want) {
				t.Fatalf("replay err = %v", err2)
			}
			if _, err3 := pay.Lookup(context.Background(), "k-"+tt.name); !errors.Is(err3, tt.want) {
				t.Fatalf("lookup err = %v", err3)
			}
			charges := h.gateway.Charges()
			if len(charges) != 1 || charges[0].Status != "failed" || charges[0].Code == "" {
				t.Fatalf("charges = %+v, want one failed record", charges)
			}
		})
	}
}

func TestGatewayDeclineNextIsConsumed(t *testing.T) {
	h := newHarness(t)
	card := h.addCard(Card{Kind: CardCredit})
	var patched Card
	if st := h.control("PATCH", "/sim/v1/cards/"+card.Token, map[string]int{"decline_next": 1}, &patched); st != 200 || patched.DeclineNext != 1 {
		t.Fatalf("patch status %d card %+v", st, patched)
	}
	pay := h.payClient(0)
	if _, err := pay.Charge(context.Background(), chargeReq("a", card.Token, 100)); !errors.Is(err, payment.ErrDeclined) {
		t.Fatalf("first = %v", err)
	}
	if _, err := pay.Charge(context.Background(), chargeReq("b", card.Token, 100)); err != nil {
		t.Fatalf("second = %v", err)
	}
}

func TestGatewayIdempotentRetry(t *testing.T) {
	h := newHarness(t)
	card := h.addCard(Card{Kind: CardPrepaid, BalanceMinor: 1000})
	pay := h.payClient(0)
	first, err := pay.Charge(context.Background(), chargeReq("same", card.Token, 400))
	if err != nil {
		t.Fatal(err)
	}
	again, err := pay.Charge(context.Background(), chargeReq("same", card.Token, 400))
	if err != nil || again != first {
		t.Fatalf("retry = %+v, %v; want %+v", again, err, first)
	}
	if _, err := pay.Charge(context.Background(), chargeReq("same", card.Token, 500)); !errors.Is(err, payment.ErrIdempotencyMismatch) {
		t.Fatalf("changed amount err = %v", err)
	}
	var charges []ChargeRecord
	h.control("GET", "/sim/v1/charges", nil, &charges)
	if len(charges) != 1 || charges[0].IdempotencyKey != "same" || charges[0].AmountMinor != 400 {
		t.Fatalf("charges = %+v, want exactly one", charges)
	}
	got, _ := h.gateway.Card(card.Token)
	if got.BalanceMinor != 600 {
		t.Fatalf("balance = %d, want 600 (charged once)", got.BalanceMinor)
	}
}

// The gateway records the charge but answers after the client's timeout:
// the client resolves it by lookup and exactly one charge exists.
func TestGatewaySlowResolvedByLookup(t *testing.T) {
	h := newHarness(t)
	card := h.addCard(Card{Kind: CardCredit})
	h.control("PATCH", "/sim/v1/cards/"+card.Token, map[string]any{"slow_next": SlowSpec{Count: 1, DelayMS: 30_000}}, nil)
	ch, err := h.payClient(250*time.Millisecond).Charge(context.Background(), chargeReq("slow", card.Token, 700))
	if err != nil {
		t.Fatalf("Charge: %v", err)
	}
	charges := h.gateway.Charges()
	if len(charges) != 1 || charges[0].ID != ch.ID || charges[0].Status != "succeeded" {
		t.Fatalf("charges = %+v, want exactly the resolved one %s", charges, ch.ID)
	}
}

func TestGatewayUnavailable(t *testing.T) {
	h := newHarness(t)
	card := h.addCard(Card{Kind: CardCredit})
	h.control("PATCH", "/sim/v1/cards/"+card.Token, map[string]int{"unavailable_next": 1}, nil)
	pay := h.payClient(0)
	_, err := pay.Charge(context.Background(), chargeReq("u", card.Token, 100))
	if !errors.Is(err, payment.ErrUnavailable) || !payment.Retryable(err) {
		t.Fatalf("err = %v, want retryable ErrUnavailable", err)
	}
	if n := len(h.gateway.Charges()); n != 0 {
		t.Fatalf("%d charges recorded by a 503", n)
	}
	if _, err := pay.Charge(context.Background(), chargeReq("u", card.Token, 100)); err != nil {
		t.Fatalf("retry with the same key: %v", err)
	}
	if n := len(h.gateway.Charges()); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
}

func TestGatewayRejectsBadKeyAndRequests(t *testing.T) {
	h := newHarness(t)
	card := h.addCard(Card{})
	cfg := payment.DefaultConfig()
	cfg.BaseURL, cfg.APIKey = h.srv.URL+"/pay", "wrong"
	if _, err := payment.NewHTTPGateway(cfg, nil).Charge(context.Background(), chargeReq("k", card.Token, 100)); !errors.Is(err, payment.ErrUnauthorized) {
		t.Fatalf("bad key err = %v", err)
	}
	bad := chargeReq("k", card.Token, 0)
	if _, err := h.payClient(0).Charge(context.Background(), bad); !errors.Is(err, payment.ErrInvalidRequest) {
		t.Fatalf("zero amount err = %v", err)
	}
	if n := len(h.gateway.Charges()); n != 0 {
		t.Fatalf("%d charges recorded", n)
	}
}

func TestCardControlValidation(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name string
		body map[string]any
	}{
		{"bad kind", map[string]any{"kind": "gold"}},
		{"bad last4", map[string]any{"last4": "12"}},
		{"negative balance", map[string]any{"kind": "prepaid", "balance_minor": -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st := h.control("POST", "/sim/v1/cards", tt.body, nil); st != 400 {
				t.Fatalf("status %d, want 400", st)
			}
		})
	}
	if st := h.control("GET", "/sim/v1/cards/tok_none", nil, nil); st != 404 {
		t.Fatalf("unknown card status %d", st)
	}
	if st := h.control("PATCH", "/sim/v1/cards/tok_none", map[string]any{"expired": true}, nil); st != 404 {
		t.Fatalf("patch unknown card status %d", st)
	}
}

// A repeated charge POST is de-duplicated in the ledger but still counted
// as received, per key and per card, so an exactly-once check can see it.
func TestGatewayCountsRepeatedChargeRequests(t *testing.T) {
	h := newHarness(t)
	card := h.addCard(Card{Kind: CardCredit})
	other := h.addCard(Card{Kind: CardCredit})
	pay := h.payClient(0)
	for range 2 {
		if _, err := pay.Charge(context.Background(), chargeReq("twice", card.Token, 400)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pay.Charge(context.Background(), chargeReq("twice", card.Token, 999)); !errors.Is(err, payment.ErrIdempotencyMismatch) {
		t.Fatalf("mismatch err = %v", err)
	}
	if _, err := pay.Charge(context.Background(), chargeReq("once", other.Token, 400)); err != nil {
		t.Fatal(err)
	}
	ledger := 0
	for _, c := range h.gateway.Charges() {
		if c.CardToken == card.Token {
			ledger++
		}
	}
	if ledger != 1 {
		t.Fatalf("ledger has %d charges for the card, want 1 (de-duplicated)", ledger)
	}
	if n := h.gateway.ReceivedForCard(card.Token); n != 3 {
		t.Fatalf("received %d charge requests for the card, want 3", n)
	}
	if n := h.gateway.ReceivedForKey("twice"); n != 3 {
		t.Fatalf("received %d charge requests under the key, want 3", n)
	}
	var got ChargeRequests
	if st := h.control("GET", "/sim/v1/charges/received", nil, &got); st != http.StatusOK {
		t.Fatalf("received route status %d", st)
	}
	if got.Total != 4 || got.ByCard[card.Token] != 3 || got.ByCard[other.Token] != 1 || got.ByKey["once"] != 1 {
		t.Fatalf("received counters %+v", got)
	}
}
