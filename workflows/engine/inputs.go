package engine

import "time"

// InputKind names what happened.
type InputKind string

// Input kinds.
const (
	InputPayment    InputKind = "payment"     // a payment at the bay by this driver's card
	InputTimer      InputKind = "timer"       // an armed timer fired
	InputReply      InputKind = "reply"       // the driver answered
	InputCharge     InputKind = "charge"      // the payment gateway answered
	InputMeterAck   InputKind = "meter_ack"   // the meter acknowledged a renewal
	InputSuperseded InputKind = "superseded"  // another driver paid at the bay
	InputOptOut     InputKind = "opt_out"     // the driver sent STOP or the carrier reported an opt-out
	InputSendFailed InputKind = "send_failed" // a message could not be delivered
)

// Input is one event for a conversation.
type Input struct {
	Kind    InputKind     `json:"kind"`
	Payment *PaymentInput `json:"payment,omitempty"`
	Timer   *TimerInput   `json:"timer,omitempty"`
	Reply   *ReplyInput   `json:"reply,omitempty"`
	Charge  *ChargeResult `json:"charge,omitempty"`
	Ack     *AckInput     `json:"ack,omitempty"`
	Send    *SendFailure  `json:"send,omitempty"`
	// Facts are what the host knew when the input arrived (blacklists).
	Facts Facts `json:"facts"`
}

// Facts carries registry knowledge into the pure engine.
type Facts struct {
	// Known is set when the host looked the facts up (not for every input).
	Known bool `json:"known,omitempty"`
	// HasApp is true when the driver has a registered app device.
	HasApp bool `json:"has_app,omitempty"`
	// SMSOptedOut is true when the driver sent STOP.
	SMSOptedOut      bool   `json:"sms_opted_out,omitempty"`
	CardBlacklisted  string `json:"card_blacklisted,omitempty"`  // reason, empty if not blacklisted
	PhoneBlacklisted string `json:"phone_blacklisted,omitempty"` // reason, empty if not blacklisted
}

// PaymentInput is a meter transaction by a registered card.
type PaymentInput struct {
	TxnID     string    `json:"txn_id"`
	MeterID   string    `json:"meter_id"`
	Bay       string    `json:"bay"`
	Zone      string    `json:"zone"`
	Location  string    `json:"location"`
	CardToken string    `json:"card_token"`
	PaidAt    time.Time `json:"paid_at"`
	PaidUntil time.Time `json:"paid_until"`
}

// TimerInput is a fired timer.
type TimerInput struct {
	Kind TimerKind `json:"kind"`
	ID   string    `json:"id"`
}

// Answer is what a reply means, whatever the channel.
type Answer string

// Answers. Digits 1-3 are the menu options; yes and no confirm or cancel a
// quote (1 and 2 also do while a quote is open).
const (
	AnswerOne     Answer = "1"
	AnswerTwo     Answer = "2"
	AnswerThree   Answer = "3"
	AnswerYes     Answer = "yes"
	AnswerNo      Answer = "no"
	AnswerUnknown Answer = "unknown"
)

// ReplyInput is the driver's answer.
type ReplyInput struct {
	Answer  Answer `json:"answer"`
	Channel string `json:"channel"`
}

// ChargeOutcome classifies a payment gateway answer.
type ChargeOutcome string

// Charge outcomes.
const (
	ChargeSucceeded    ChargeOutcome = "succeeded"
	ChargeDeclined     ChargeOutcome = "declined"
	ChargeInsufficient ChargeOutcome = "insufficient_funds"
	ChargeCardExpired  ChargeOutcome = "card_expired"
	ChargeBlacklisted  ChargeOutcome = "blacklisted"
	ChargeDebit        ChargeOutcome = "debit_not_supported"
	ChargeUnavailable  ChargeOutcome = "unavailable"
	// ChargeUnknown means the gateway could not tell whether the card was
	// charged; the charge stays unresolved and is looked up until it can.
	ChargeUnknown ChargeOutcome = "unknown"
)

// ChargeResult is the final answer for one charge key.
type ChargeResult struct {
	Key      string        `json:"key"`
	Outcome  ChargeOutcome `json:"outcome"`
	ChargeID string        `json:"charge_id,omitempty"`
}

// AckInput is the meter's answer to a renewal command.
type AckInput struct {
	CommandID string    `json:"command_id"`
	Applied   bool      `json:"applied"`
	PaidUntil time.Time `json:"paid_until"`
	Reason    string    `json:"reason,omitempty"`
}

// SendFailure reports a message that failed permanently.
type SendFailure struct {
	EffectID string `json:"effect_id"`
	Code     int    `json:"code"`
	OptOut   bool   `json:"opt_out"`
	// Channel and Template say what failed, so a failed call can fall back
	// to SMS with the same message.
	Channel  string `json:"channel,omitempty"`
	Template string `json:"template,omitempty"`
	// Reason is a short cause: busy, no-answer, voicemail, no-input, failed.
	Reason string `json:"reason,omitempty"`
}

// Input kinds of calls and opt-in.
const (
	// InputCallEnded: a call about this conversation ended after the driver
	// had answered it (the status callback said completed).
	InputCallEnded InputKind = "call_ended"
	// InputCallMenu: a call the driver placed offered this conversation's
	// menu (extend, remind, app), a fresh prompt answered by keypad.
	InputCallMenu InputKind = "call_menu"
	// InputOptIn: the driver sent START after STOP; a stay that the opt-out
	// ended and that is still paid (or in grace) comes back.
	InputOptIn InputKind = "opt_in"
)
