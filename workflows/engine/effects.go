package engine

import "time"

// EffectKind names what an effect asks the host to do.
type EffectKind string

// Effect kinds.
const (
	EffectSend          EffectKind = "send"
	EffectArmTimer      EffectKind = "timer"
	EffectCharge        EffectKind = "charge"
	EffectRenewMeter    EffectKind = "meter_renew"
	EffectOperatorAlert EffectKind = "operator_alert"
)

// Effect is one thing the engine wants done after its new state is committed.
// ID is deterministic (conversation, sequence, kind), so carrying an effect out
// twice is recognised.
type Effect struct {
	ID     string        `json:"id"`
	Kind   EffectKind    `json:"kind"`
	Send   *Send         `json:"send,omitempty"`
	Timer  *TimerEffect  `json:"timer,omitempty"`
	Charge *ChargeEffect `json:"charge,omitempty"`
	Meter  *MeterEffect  `json:"meter,omitempty"`
	Alert  *AlertEffect  `json:"alert,omitempty"`
	Note   *Note         `json:"note,omitempty"`
}

// Send is a message to the driver.
type Send struct {
	Channel string `json:"channel"` // "sms" or "voice"
	// Inline sends are spoken in the current call's answer (TwiML) and are
	// never enqueued.
	Inline   bool   `json:"inline,omitempty"`
	To       string `json:"to"`
	Language string `json:"language"`
	Template string `json:"template"`
	Body     string `json:"body"`
	// ValidUntil is when the message is no longer worth delivering.
	ValidUntil time.Time `json:"valid_until"`
}

// TimerEffect arms a timer.
type TimerEffect struct {
	Kind TimerKind `json:"kind"`
	At   time.Time `json:"at"`
}

// ChargeEffect charges the registered card once, under Key.
type ChargeEffect struct {
	Key       string `json:"key"`
	CardToken string `json:"card_token"`
	Amount    Money  `json:"amount"`
	Currency  string `json:"currency"`
	// Lookup asks only for the outcome recorded under Key: an unresolved
	// charge is reconciled, never posted again.
	Lookup bool `json:"lookup,omitempty"`
}

// MeterEffect sends a renewal command to the meter.
type MeterEffect struct {
	CommandID string    `json:"command_id"`
	MeterID   string    `json:"meter_id"`
	Bay       string    `json:"bay"`
	PaidUntil time.Time `json:"paid_until"`
	TxnID     string    `json:"txn_id"`
}

// AlertEffect raises an operator alert.
type AlertEffect struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// EffectNote records in the conversation's history something the engine
// decided not to do; it is never carried out and has no id.
const EffectNote EffectKind = "note"

// Note says which channel the escalation skipped and why.
type Note struct {
	Skipped string     `json:"skipped"`
	Reason  SkipReason `json:"reason"`
}
