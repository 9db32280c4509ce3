package engine

import "time"

// Phase is where a conversation stands.
type Phase string

// Phases of a renewal conversation. The first five wait for the driver or a
// timer; charging and renewing wait for the payment gateway and the meter; the
// last four are terminal.
const (
	PhaseParked     Phase = "parked"     // paid; the expiry notice is armed
	PhaseOffered    Phase = "offered"    // the notice with the menu was sent; waiting for 1/2/3
	PhaseQuoted     Phase = "quoted"     // the quote was sent; waiting for confirm or cancel
	PhaseAlertSet   Phase = "alert_set"  // option 2: an alert is armed before the grace period ends
	PhaseAppLink    Phase = "app_link"   // option 3: the app link was sent
	PhaseCharging   Phase = "charging"   // the card is being charged
	PhaseRenewing   Phase = "renewing"   // charged and recorded; waiting for the meter's ack
	PhaseEnded      Phase = "ended"      // the paid time and grace period are over, or the driver declined
	PhaseSuperseded Phase = "superseded" // another driver paid at the bay
	PhaseRefused    Phase = "refused"    // the card or phone is blacklisted
	PhaseOptedOut   Phase = "opted_out"  // the driver sent STOP
)

// Terminal reports whether no input can move the conversation any more.
func (p Phase) Terminal() bool {
	switch p {
	case PhaseEnded, PhaseSuperseded, PhaseRefused, PhaseOptedOut:
		return true
	}
	return false
}

// AwaitingDriver reports whether the conversation waits for an answer from
// the driver about a pending renewal (the phases a new payment supersedes).
func (p Phase) AwaitingDriver() bool {
	switch p {
	case PhaseOffered, PhaseQuoted, PhaseAlertSet, PhaseAppLink:
		return true
	}
	return false
}

// CardKind says whether a card can be charged remotely.
type CardKind string

// Card kinds. Debit cards cannot be charged remotely.
const (
	CardCredit  CardKind = "credit"
	CardPrepaid CardKind = "prepaid"
	CardDebit   CardKind = "debit"
)

// State is one renewal conversation: one driver's stay at one bay.
type State struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Phase   Phase  `json:"phase"`

	UserID    string   `json:"user_id"`
	Phone     string   `json:"phone"`
	Language  string   `json:"language"`
	CardToken string   `json:"card_token"`
	CardLast4 string   `json:"card_last4"`
	CardKind  CardKind `json:"card_kind"`
	// Channels is the escalation order for this driver; Esc is the index of
	// the channel the current prompt was last sent on.
	Channels []string `json:"channels,omitempty"`
	Esc      int      `json:"esc"`
	// Prompt is the template of the current prompt (notice or grace_alert),
	// resent on each escalation step.
	Prompt string `json:"prompt,omitempty"`
	// AnsweredOn is the channel of the driver's last answer.
	AnsweredOn string `json:"answered_on,omitempty"`
	// HasApp and SMSOptedOut are the latest known facts about the driver.
	HasApp      bool `json:"has_app,omitempty"`
	SMSOptedOut bool `json:"sms_opted_out,omitempty"`
	// LeadTime is this driver's reminder lead time.
	LeadTime time.Duration `json:"lead_time"`
	// CallsInQuietHours lets calls reach the driver during quiet hours.
	CallsInQuietHours bool `json:"calls_in_quiet_hours,omitempty"`

	MeterID  string `json:"meter_id"`
	Bay      string `json:"bay"`
	Zone     string `json:"zone"`
	Location string `json:"location"`

	// Payments lists the meter transaction ids paid at the bay for this stay.
	Payments  []string  `json:"payments"`
	StayStart time.Time `json:"stay_start"`
	PaidUntil time.Time `json:"paid_until"`

	Quote    *Quote `json:"quote,omitempty"`
	Attempts int    `json:"attempts"` // charge attempts so far (each has its own key)
	// LastCharge is the outcome of the latest charge attempt.
	LastCharge ChargeOutcome `json:"last_charge,omitempty"`
	Renewals   []Renewal     `json:"renewals,omitempty"`

	// Timers holds the armed timer of each kind; a fired timer whose id is not
	// here any more is stale and does nothing.
	Timers map[TimerKind]Timer `json:"timers,omitempty"`
	// Seq numbers effects so that their ids are deterministic.
	Seq int `json:"seq"`
	// ChargeCheck is set while the open charge's outcome is unknown.
	ChargeCheck *ChargeCheck `json:"charge_check,omitempty"`
	// LastPromptAt is when the driver was last asked something; replies go to
	// the driver's most recently prompted open conversation.
	LastPromptAt time.Time `json:"last_prompt_at"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Quote is a priced offer waiting for confirmation.
type Quote struct {
	Amount    Money     `json:"amount"`
	Currency  string    `json:"currency"`
	From      time.Time `json:"from"`
	Until     time.Time `json:"until"`
	Capped    bool      `json:"capped"`
	ChargeKey string    `json:"charge_key"`
	QuotedAt  time.Time `json:"quoted_at"`
}

// ChargeCheck is a charge whose outcome the gateway could not tell. While it
// is set the conversation stays charging, no other charge is made for it,
// and the key is looked up with growing pauses until the gateway answers.
type ChargeCheck struct {
	Key string `json:"key"`
	// Since is when the outcome was first found unknown.
	Since time.Time `json:"since"`
	// Lookups counts the lookups that still could not tell.
	Lookups int `json:"lookups"`
	// GaveUp is set once the operator was told to settle it by hand.
	GaveUp bool `json:"gave_up,omitempty"`
}

// Renewal is a charged and recorded extension.
type Renewal struct {
	N         int       `json:"n"`
	ChargeKey string    `json:"charge_key"`
	ChargeID  string    `json:"charge_id"`
	Amount    Money     `json:"amount"`
	Currency  string    `json:"currency"`
	From      time.Time `json:"from"`
	Until     time.Time `json:"until"`
	CommandID string    `json:"command_id"`
	// MeterAck is "acked", "rejected", "timeout" or empty while waiting.
	MeterAck       string    `json:"meter_ack,omitempty"`
	MeterPaidUntil time.Time `json:"meter_paid_until,omitempty"`
	RecordedAt     time.Time `json:"recorded_at"`
}

// TimerKind names a conversation timer.
type TimerKind string

// Timer kinds.
const (
	TimerNotice     TimerKind = "notice"      // send the expiry notice
	TimerGraceAlert TimerKind = "grace_alert" // option 2's alert
	TimerGraceEnd   TimerKind = "grace_end"   // the stay is over
	TimerMeterAck   TimerKind = "meter_ack"   // give up waiting for the meter
	TimerEscalate   TimerKind = "escalate"    // no answer: try the next channel
	// TimerChargeCheck looks an unresolved charge up again.
	TimerChargeCheck TimerKind = "charge_check"
)

// Timer is an armed timer.
type Timer struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

// clone returns a deep copy, so Step never mutates its argument.
func (s State) clone() State {
	c := s
	c.Payments = append([]string(nil), s.Payments...)
	c.Channels = append([]string(nil), s.Channels...)
	c.Renewals = append([]Renewal(nil), s.Renewals...)
	if s.Quote != nil {
		q := *s.Quote
		c.Quote = &q
	}
	if s.ChargeCheck != nil {
		cc := *s.ChargeCheck
		c.ChargeCheck = &cc
	}
	c.Timers = make(map[TimerKind]Timer, len(s.Timers))
	for k, v := range s.Timers {
		c.Timers[k] = v
	}
	return c
}

// GraceEnd is when the stay is finally over if nothing is renewed.
func (s State) GraceEnd(set *Settings) time.Time { return s.PaidUntil.Add(set.GracePeriod) }
