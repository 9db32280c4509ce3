package devicelink

import (
	"context"
	"time"
)

// Meter is a registered meter.
type Meter struct {
	// ID identifies the meter: 1..64 characters of [A-Za-z0-9._-].
	ID string `json:"id"`
	// SIMNumber is the E.164 number of the meter's SIM (used to wake it).
	SIMNumber string `json:"sim_number,omitempty"`
	// Zone is the operator's tariff / enforcement zone.
	Zone string `json:"zone,omitempty"`
	// Location describes where the meter stands.
	Location string `json:"location,omitempty"`
	// Bays are the bays the meter sells time for.
	Bays []string `json:"bays"`
	// KeyEpoch is the epoch of the meter's current key; set by CreateMeter.
	KeyEpoch uint32 `json:"key_epoch"`
	// CreatedAt is when the meter was registered; set by CreateMeter when zero.
	CreatedAt time.Time `json:"created_at"`
}

// HasBay reports whether bay is one of the meter's bays.
func (m Meter) HasBay(bay string) bool {
	for _, b := range m.Bays {
		if b == bay {
			return true
		}
	}
	return false
}

// Transaction is a payment a meter reported, passed to the Sink once stored.
type Transaction struct {
	// MeterID is the meter that took the payment.
	MeterID string `json:"meter_id"`
	// Zone is the meter's zone.
	Zone string `json:"zone"`
	// Location is the meter's location.
	Location string `json:"location"`
	// Bay is the bay paid for.
	Bay string `json:"bay"`
	// TxnID is the payment's id, unique per meter.
	TxnID string `json:"txn_id"`
	// CardToken is the payment network's token of the card.
	CardToken string `json:"card_token"`
	// Currency is the ISO 4217 code.
	Currency string `json:"currency"`
	// AmountMinor is in minor units of Currency.
	AmountMinor int64 `json:"amount_minor"`
	// PaidAt is when the card was tapped.
	PaidAt time.Time `json:"paid_at"`
	// PaidUntil is the bay's resulting paid-until time.
	PaidUntil time.Time `json:"paid_until"`
	// Seq is the record's position in the meter's chain.
	Seq uint64 `json:"seq"`
}

// RenewCommand asks a meter to extend a bay's paid time.
type RenewCommand struct {
	// CommandID is the business key: enqueuing the same id twice is a no-op.
	CommandID string `json:"command_id"`
	// MeterID is the meter to renew at.
	MeterID string `json:"meter_id"`
	// Bay is the bay to renew.
	Bay string `json:"bay"`
	// TxnID is the renewal's payment id.
	TxnID string `json:"txn_id"`
	// PaidUntil is the new paid-until time; the meter keeps the later of its
	// current time and this one.
	PaidUntil time.Time `json:"paid_until"`
	// NotAfter is when the command stops being delivered; zero means
	// PaidUntil if that is in the future, else now + Config.CommandTTL.
	NotAfter time.Time `json:"not_after"`
}

// Ack is a meter's reported outcome of a command, passed to the Sink.
type Ack struct {
	// CommandID is the command the outcome is for.
	CommandID string `json:"command_id"`
	// MeterID is the meter that reported it.
	MeterID string `json:"meter_id"`
	// Bay is the command's bay ("" for commands without one).
	Bay string `json:"bay"`
	// Applied is true when the meter applied the command.
	Applied bool `json:"applied"`
	// PaidUntil is the bay's paid-until time the meter reported after
	// applying (for an outcome learnt from a hello, the command's PaidUntil,
	// which the meter's time is at least).
	PaidUntil time.Time `json:"paid_until"`
	// Reason explains a rejection or how the outcome was learnt.
	Reason string `json:"reason,omitempty"`
}

// Sink receives what meters report. It is called after the record is durably
// stored; an error makes the platform try again at a later exchange with that
// meter, so implementations must be idempotent by TxnID / CommandID.
type Sink interface {
	// TransactionRecorded is called once per stored transaction, in sequence
	// order per meter.
	TransactionRecorded(ctx context.Context, t Transaction) error
	// CommandAcked is called once per command outcome.
	CommandAcked(ctx context.Context, a Ack) error
}

// FailureSink is an optional interface of a Sink: a Sink that implements it
// is told, once per command, when a command ends without reaching the meter
// or without a known outcome: failed (poison, or not applied by not_after),
// expired (the meter could not be reached before not_after) or cancelled.
// The central record stays authoritative for enforcement. Like the Sink, it
// is called after the state is stored and retried on error, so it must be
// idempotent by CommandID.
type FailureSink interface {
	// CommandFailed receives the final record; c.State says which end.
	CommandFailed(ctx context.Context, c CommandRecord) error
}
