package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"ppprenew/workflows/payment"
)

// The charge is taken but its answer is lost and the gateway's records stay
// unreachable: the client reports an unknown outcome, never "not charged",
// and once the records are back the lookup finds the charge.
func TestGatewayRecordsUnavailableLeavesTheOutcomeUnknown(t *testing.T) {
	h := newHarness(t)
	card := h.addCard(Card{Kind: CardCredit})
	h.control("PATCH", "/sim/v1/cards/"+card.Token, map[string]any{
		"slow_next": SlowSpec{Count: 1, DelayMS: 30_000}, "records_unavailable_next": 4,
	}, nil)
	pay := h.payClient(250 * time.Millisecond)
	ctx := context.Background()
	_, err := pay.Charge(ctx, chargeReq("k1", card.Token, 700))
	if !payment.OutcomeUnknown(err) || !payment.Retryable(err) {
		t.Fatalf("err = %v, want a retryable unknown outcome", err)
	}
	_, err = pay.Charge(ctx, chargeReq("k1", card.Token, 700)) // the POST again, then the lookup
	if !payment.OutcomeUnknown(err) {
		t.Fatalf("repeated POST: %v, want an unknown outcome", err)
	}
	if _, err := pay.Lookup(ctx, "k1"); !errors.Is(err, payment.ErrUnavailable) || errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("lookup while records are down: %v, want unavailable", err)
	}
	ch, err := pay.Lookup(ctx, "k1")
	if err != nil || ch.ID == "" {
		t.Fatalf("lookup once records are back: %+v %v", ch, err)
	}
	if n := len(h.gateway.Charges()); n != 1 {
		t.Fatalf("%d charges recorded, want the one", n)
	}
}
