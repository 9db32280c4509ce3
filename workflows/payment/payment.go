package payment

import (
	"context"
	"time"
)

// Gateway charges registered cards. Implementations must be idempotent per key.
type Gateway interface {
	// Charge charges the card once per idempotency key. A repeated call with
	// the same key and request returns the first outcome.
	Charge(ctx context.Context, req ChargeRequest) (Charge, error)
	// Lookup returns the outcome recorded for an idempotency key: the charge,
	// a decline error, or ErrNotFound when the gateway never recorded the key.
	Lookup(ctx context.Context, idempotencyKey string) (Charge, error)
}

// ChargeRequest asks the gateway to take money from a registered card.
type ChargeRequest struct {
	// IdempotencyKey identifies this charge; reuse it for every retry.
	IdempotencyKey string
	// CardToken is the gateway's token for the registered card.
	CardToken string
	// Currency is the ISO 4217 code, e.g. "HKD".
	Currency string
	// Description is shown on the gateway's records.
	Description string
	// AmountMinor is the amount in minor units (cents).
	AmountMinor int64
}

// StatusSucceeded is the status of a charge that took the money.
const StatusSucceeded = "succeeded"

// Charge is a successful charge as recorded by the gateway.
type Charge struct {
	// ID is the gateway's charge id ("ch_…").
	ID string
	// IdempotencyKey is the key the charge was made under.
	IdempotencyKey string
	// Status is StatusSucceeded.
	Status string
	// AmountMinor is the charged amount in minor units.
	AmountMinor int64
	// Currency is the ISO 4217 code.
	Currency string
	// CreatedAt is when the gateway recorded the charge.
	CreatedAt time.Time
}
