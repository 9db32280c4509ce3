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
	MeterID   string `json:"meter_id"`
	Zone      string `json:"zone"`
	Location  string `json:"location"`
	Bay       string `json:"bay"`
	TxnID     string `json:"txn_id"`
	CardToken string `json:"card_token"`
	Currency  string `json:"currency"`
	// AmountMinor is in minor units of Currency.
	AmountMinor int64     `json:"amount_minor"`
	PaidAt      time.Time `json:"paid_at"`
	PaidUntil   time.Time `json:"paid_until"`
	// Seq is the record's position in the meter's chain.
	Seq uint64 `json:"seq"`
}

// RenewCommand asks a meter to extend a bay's paid time.
type RenewCommand struct {
	// CommandID is the business key: enqueuing the same id twice is a no-op.
	CommandID string `json:"command_id"`
	MeterID   string `json:"meter_id"`
	Bay       string `json:"bay"`
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
	CommandID string `json:"command_id"`
	MeterID   string `json:"meter_id"`
	Bay       string `json:"bay"`
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
