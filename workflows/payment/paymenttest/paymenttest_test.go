package paymenttest

import (
	"context"
	"errors"
	"testing"

	"ppprenew/workflows/payment"
)

func TestGatewayIdempotentAndScripted(t *testing.T) {
	ctx := context.Background()
	g := NewGateway(nil)
	g.SetOutcome("tok_a", payment.ErrUnavailable, nil)
	g.SetOutcome("tok_b", payment.ErrDeclined)
	reqA := payment.ChargeRequest{IdempotencyKey: "a", CardToken: "tok_a", Currency: "HKD", AmountMinor: 100}

	if _, err := g.Charge(ctx, reqA); !payment.Retryable(err) {
		t.Fatalf("first charge err = %v, want unavailable", err)
	}
	if _, err := g.Lookup(ctx, "a"); !errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("lookup after unavailable = %v, want not found", err)
	}
	first, err := g.Charge(ctx, reqA)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	again, err := g.Charge(ctx, reqA)
	if err != nil || again != first {
		t.Fatalf("replay = %+v, %v; want %+v", again, err, first)
	}
	if n := len(g.Charges()); n != 1 {
		t.Fatalf("charges = %d, want 1", n)
	}
	changed := reqA
	changed.AmountMinor = 200
	if _, err := g.Charge(ctx, changed); !errors.Is(err, payment.ErrIdempotencyMismatch) {
		t.Fatalf("changed body err = %v", err)
	}
	reqB := payment.ChargeRequest{IdempotencyKey: "b", CardToken: "tok_b", Currency: "HKD", AmountMinor: 100}
	if _, err := g.Charge(ctx, reqB); !errors.Is(err, payment.ErrDeclined) {
		t.Fatalf("tok_b err = %v", err)
	}
	if _, err := g.Lookup(ctx, "b"); !errors.Is(err, payment.ErrDeclined) {
		t.Fatalf("lookup b = %v, want the recorded decline", err)
	}
}
