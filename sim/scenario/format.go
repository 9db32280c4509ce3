package scenario

import (
	"regexp"
	"time"
)

// Scenario is one loaded scenario file.
type Scenario struct {
	// Name is the scenario's name (the file name when the file gives none).
	Name string `yaml:"name"`
	// File is the path the scenario was loaded from.
	File string `yaml:"-"`
	// Settings are what the scenario needs of the server's settings: a
	// setting path (lead_time, voice.pin_required, zones.short.maximum_stay)
	// and the value it must have, or a bound such as "<=20s".
	Settings map[string]Need `yaml:"settings"`
	// World is what exists before the first step.
	World World `yaml:"world"`
	// Steps run in order; the first that fails ends the scenario.
	Steps []*Step `yaml:"steps,required"`
}

// World is the scenario's meters, drivers, cards and blacklist.
type World struct {
	Meters    []*MeterSpec  `yaml:"meters"`
	Drivers   []*Driver     `yaml:"drivers"`
	Cards     []*CardSpec   `yaml:"cards"`
	Phones    []*PhoneSpec  `yaml:"phones"`
	Blacklist []*BlackEntry `yaml:"blacklist"`
}

// MeterSpec is a simulated meter.
type MeterSpec struct {
	ID       string `yaml:"id,required"`
	Bays     string `yaml:"bays"` // "1-20" or "1,2,7"; default 1-20
	Online   bool   `yaml:"online"`
	Zone     string `yaml:"zone"`
	Location string `yaml:"location"`
}

// Driver is a registered driver with one card at the simulated gateway.
type Driver struct {
	Phone    Phone    `yaml:"phone,required"`
	Lang     string   `yaml:"lang" enum:"en,zh-HK,zh-CN"`       // en (default), zh-HK, zh-CN
	Card     string   `yaml:"card" enum:"credit,prepaid,debit"` // credit (default), prepaid, debit
	Last4    string   `yaml:"last4"`                            // default 4242
	Balance  Amount   `yaml:"balance"`                          // default 100.00
	Channel  string   `yaml:"channel" enum:"sms,voice,push"`    // sms, voice, push; empty: the operator's order
	Channels []string `yaml:"channels"`
	PIN      string   `yaml:"pin"`
	LeadTime Duration `yaml:"lead_time"`
	// CallsInQuietHours lets the platform call this driver at night, so a
	// scenario with calls passes at any hour.
	CallsInQuietHours bool `yaml:"calls_in_quiet_hours"`
	// Behaviour of the handset: ok, unreachable, landline, filtered.
	Behaviour string `yaml:"behaviour" enum:"ok,unreachable,landline,filtered"`
	Expired   bool   `yaml:"expired"`
	// Blacklisted is the gateway's own blacklist of the card.
	Blacklisted bool `yaml:"blacklisted"`
}

// CardSpec is a card at the gateway that belongs to no driver (a payer who
// is not registered); steps name it by ID.
type CardSpec struct {
	ID      string `yaml:"id,required"`
	Kind    string `yaml:"kind" enum:"credit,prepaid,debit"`
	Last4   string `yaml:"last4"`
	Balance Amount `yaml:"balance"`
}

// PhoneSpec is a handset that belongs to no driver, or a driver's handset
// behaviour set apart.
type PhoneSpec struct {
	Phone     Phone  `yaml:"phone,required"`
	Behaviour string `yaml:"behaviour,required" enum:"ok,unreachable,landline,filtered"`
}

// BlackEntry blacklists a phone or the card of a driver at the platform.
type BlackEntry struct {
	Phone  Phone  `yaml:"phone"`
	CardOf Phone  `yaml:"card_of"`
	Reason string `yaml:"reason"`
}

// Step is one step: exactly one of the kind fields is set.
type Step struct {
	// Kind is the step's key (tap, sms, expect_sms, ...).
	Kind string `yaml:"-"`
	// Line and Column are where the step starts in its file.
	Line, Column int `yaml:"-"`

	Tap        *TapStep        `yaml:"tap"`
	SMS        *SMSStep        `yaml:"sms"`
	ExpectSMS  *ExpectSMSStep  `yaml:"expect_sms"`
	NoSMS      *NoSMSStep      `yaml:"no_sms"`
	Voice      *VoiceStep      `yaml:"voice"`
	ExpectCall *ExpectCallStep `yaml:"expect_call"`
	Call       *CallStep       `yaml:"call"`
	App        *AppStep        `yaml:"app"`
	ExpectPush *ExpectPushStep `yaml:"expect_push"`
	Fault      *FaultStep      `yaml:"fault"`
	ClearFault *ClearFaultStep `yaml:"clear_fault"`
	MeterFault *MeterFaultStep `yaml:"meter_fault"`
	Expect     *ExpectStep     `yaml:"expect"`
	Wait       *WaitStep       `yaml:"wait"`
}

// TapStep pays at a bay with a driver's card (phone) or a world card (card).
type TapStep struct {
	Meter   string `yaml:"meter,required"`
	Bay     string `yaml:"bay,required"`
	Phone   Phone  `yaml:"phone"`
	Card    string `yaml:"card"`
	Minutes int    `yaml:"minutes"`
	Seconds int    `yaml:"seconds"`
	Amount  Amount `yaml:"amount"`
}

// SMSStep is a text from a handset to the platform.
type SMSStep struct {
	From  Phone  `yaml:"from,required"`
	Body  string `yaml:"body,required"`
	Twice bool   `yaml:"twice"`
}

// ExpectSMSStep waits for a text to a phone whose body matches.
type ExpectSMSStep struct {
	To     Phone    `yaml:"to,required"`
	Match  *Regexp  `yaml:"match,required"`
	Within Duration `yaml:"within"`
}

// NoSMSStep requires that no text (matching, when Match is set) reaches
// the phone for a duration.
type NoSMSStep struct {
	To    Phone    `yaml:"to,required"`
	For   Duration `yaml:"for,required"`
	Match *Regexp  `yaml:"match"`
}

// VoiceStep scripts what a handset does with the platform's calls.
type VoiceStep struct {
	Phone  Phone    `yaml:"phone,required"`
	Answer string   `yaml:"answer" enum:"human,voicemail,busy,no-answer,failed"` // human (default), voicemail, busy, no-answer, failed
	Rings  int      `yaml:"rings"`
	Press  []string `yaml:"press"` // one entry per menu: "1", "2468", "-" silence, "hangup", "1x2"
}

// ExpectCallStep waits for a call to a phone in which the platform said
// something matching.
type ExpectCallStep struct {
	To     Phone    `yaml:"to,required"`
	Say    *Regexp  `yaml:"say,required"`
	Status string   `yaml:"status"`
	Within Duration `yaml:"within"`
}

// CallStep is a driver calling the platform and pressing keys; Say, when
// set, must match what the platform said.
type CallStep struct {
	From     Phone    `yaml:"from,required"`
	Press    []string `yaml:"press"`
	Withheld bool     `yaml:"withheld"`
	Say      *Regexp  `yaml:"say"`
}

// AppStep registers the driver's app (first use) and scripts a press on
// the next push.
type AppStep struct {
	Phone    Phone  `yaml:"phone,required"`
	Platform string `yaml:"platform" enum:"fcm,apns"`        // fcm (default) or apns
	Press    string `yaml:"press" enum:"1,2,3,yes,no,renew"` // 1, 2, 3, yes, no, renew
	AfterMS  int    `yaml:"after_ms"`
}

// ExpectPushStep waits for a push to a driver's app whose body matches.
type ExpectPushStep struct {
	To     Phone    `yaml:"to,required"`
	Match  *Regexp  `yaml:"match,required"`
	Within Duration `yaml:"within"`
}

// FaultStep arms a fault of the carrier, the push services or a card.
type FaultStep struct {
	// Carrier is a carrier fault kind (messages_5xx, messages_429,
	// messages_timeout, status_duplicate, status_out_of_order, queue_delay).
	Carrier string `yaml:"carrier" enum:"messages_5xx,messages_429,messages_timeout,status_duplicate,status_out_of_order,queue_delay"`
	// Push is a push provider (fcm, apns) answering Status.
	Push    string `yaml:"push" enum:"fcm,apns"`
	Status  int    `yaml:"status"`
	Count   int    `yaml:"count"`
	DelayMS int    `yaml:"delay_ms"`
	// CardOf is the driver (phone) or world card id whose card misbehaves.
	CardOf                 string `yaml:"card_of"`
	DeclineNext            int    `yaml:"decline_next"`
	UnavailableNext        int    `yaml:"unavailable_next"`
	RecordsUnavailableNext int    `yaml:"records_unavailable_next"`
	SlowMS                 int    `yaml:"slow_ms"`
	Expired                bool   `yaml:"expired"`
	Blacklisted            bool   `yaml:"blacklisted"`
	Balance                Amount `yaml:"balance"`
}

// ClearFaultStep disarms the carrier's and the push services' faults.
type ClearFaultStep struct {
	Carrier bool `yaml:"carrier"`
	Push    bool `yaml:"push"`
}

// MeterFaultStep sets a simulated meter's faults (replacing earlier ones).
type MeterFaultStep struct {
	Meter            string `yaml:"meter,required"`
	RadioUnreachable bool   `yaml:"radio_unreachable"`
	PowerLoss        string `yaml:"power_loss" enum:"before_journal,after_journal,after_execute,after_ack"`
	DropReplies      int    `yaml:"drop_replies"`
	DropSends        int    `yaml:"drop_sends"`
	DuplicateSends   int    `yaml:"duplicate_sends"`
	CorruptReplies   int    `yaml:"corrupt_replies"`
	ConnectBackFails int    `yaml:"connect_back_fails"`
	LoseAcks         bool   `yaml:"lose_acks"`
	Clear            bool   `yaml:"clear"`
}

// ExpectStep checks the world and the server until every given part holds
// or Within passes.
type ExpectStep struct {
	// Charges is the number of succeeded charges on the scenario's cards.
	Charges *int `yaml:"charges"`
	// Meter is what a simulated meter shows for a bay.
	Meter *MeterExpect `yaml:"meter"`
	// Phone is whose newest conversation Phase and Renewals are about;
	// default the first driver.
	Phone Phone `yaml:"phone"`
	// Phase is the conversation's phase (parked, offered, quoted, alert_set,
	// app_link, charging, renewing, ended, superseded, refused, opted_out),
	// or "renewed": back to parked with the newest renewal acked by the meter.
	Phase string `yaml:"phase" enum:"parked,offered,quoted,alert_set,app_link,charging,renewing,ended,superseded,refused,opted_out,renewed"`
	// Renewals is the number of renewals the conversation recorded.
	Renewals *int `yaml:"renewals"`
	// Alerts are operator alert codes that must have been raised about the
	// scenario's conversations or meters.
	Alerts []string `yaml:"alerts"`
	Within Duration `yaml:"within"`
}

// MeterExpect is about one bay of a meter.
type MeterExpect struct {
	ID  string `yaml:"id,required"`
	Bay string `yaml:"bay,required"`
	// Renewed: the bay's paid-until moved past what the last tap there paid.
	Renewed *bool `yaml:"renewed"`
	// ExtendedBy: the bay's paid-until is exactly this past the last tap's.
	ExtendedBy Duration `yaml:"extended_by"`
}

// WaitStep waits.
type WaitStep struct {
	For Duration `yaml:"for,required"`
}

// Duration is a Go duration string (90s, 2m).
type Duration time.Duration

// Regexp is a Go regular expression.
type Regexp struct {
	*regexp.Regexp
}

// Phone is an E.164 phone number as the scenario writes it.
type Phone string

// Amount is a decimal amount such as "10.00", in minor units.
type Amount struct {
	Minor int64
	Set   bool
}

// Need is one settings need: a value, or a bound ("<=20s", ">=2").
type Need struct {
	Op    string // "=", "<=", ">=", "<", ">"
	Value string
	Line  int
	Col   int
}
