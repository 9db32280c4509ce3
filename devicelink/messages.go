package devicelink

import "time"

// Meter message types (MeterMessage.Type).
const (
	// MsgHello opens a session: why the meter connected, its status flags and
	// the command ids it applied recently.
	MsgHello = "hello"
	// MsgUpload carries transaction records in sequence order.
	MsgUpload = "upload"
	// MsgPoll asks only for pending commands.
	MsgPoll = "poll"
	// MsgAck reports the outcome of commands.
	MsgAck = "ack"
	// MsgBye closes a session; commands delivered in it and not acked become
	// in_doubt.
	MsgBye = "bye"
)

// Hello reasons (MeterMessage.Reason).
const (
	// ReasonScheduled is a scheduled check-in.
	ReasonScheduled = "scheduled"
	// ReasonWake is a connect-back after a wake call.
	ReasonWake = "wake"
	// ReasonBoot is the first connection after power-up.
	ReasonBoot = "boot"
	// ReasonPoll is a routine poll of an online meter.
	ReasonPoll = "poll"
)

// Ack statuses (AckMessage.Status).
const (
	// AckApplied means the meter applied the command.
	AckApplied = "applied"
	// AckRejected means the meter refused the command; Reason says why.
	AckRejected = "rejected"
)

// Command types (CommandMessage.Type).
const (
	// CommandRenew extends a bay's paid time.
	CommandRenew = "renew"
	// CommandRotateKey installs a new master key: WrappedKey holds it sealed
	// under the current one (see UnwrapKey), KeyEpoch is its epoch. The
	// meter keeps the new key and seals every later message under it.
	CommandRotateKey = "rotate_key"
)

// MeterMessage is the JSON body of a meter-to-platform envelope. Type selects
// which of the other fields are meaningful.
type MeterMessage struct {
	// Type is one of MsgHello, MsgUpload, MsgPoll, MsgAck, MsgBye.
	Type string `json:"type"`
	// Reason is the hello reason (ReasonScheduled, ReasonWake, ReasonBoot, ReasonPoll).
	Reason string `json:"reason,omitempty"`
	// Flags is the hello status report.
	Flags *Flags `json:"flags,omitempty"`
	// Applied lists command ids the meter applied recently (hello).
	Applied []string `json:"applied,omitempty"`
	// Records are transaction records in sequence order (upload).
	Records []TxnRecord `json:"records,omitempty"`
	// Acks are command outcomes (ack).
	Acks []AckMessage `json:"acks,omitempty"`
}

// Flags is a meter's status report in a hello.
type Flags struct {
	// BatteryPct is the battery charge, 0..100.
	BatteryPct int `json:"battery_pct"`
	// Tamper is set when the case or coin path was opened.
	Tamper bool `json:"tamper"`
	// Tilt is set when the meter is not upright.
	Tilt bool `json:"tilt"`
	// TempC is the internal temperature in degrees Celsius.
	TempC float64 `json:"temp_c"`
	// BootCount counts power-ups since installation.
	BootCount uint32 `json:"boot_count"`
	// RefusedCalls counts wake calls refused for an unknown caller id.
	RefusedCalls uint32 `json:"refused_calls"`
	// CoverOpen is set when the service cover is open.
	CoverOpen bool `json:"cover_open,omitempty"`
	// Light is set when the light sensor inside the case sees light (the
	// case is open or broken).
	Light bool `json:"light,omitempty"`
	// Vibration is set when the vibration sensor tripped (impact, drilling).
	Vibration bool `json:"vibration,omitempty"`
	// HumidityPct is the internal relative humidity; 0 means not measured.
	HumidityPct float64 `json:"humidity_pct,omitempty"`
	// RateLimitedWakes counts wake calls ignored by the meter's wake rate
	// limit.
	RateLimitedWakes uint32 `json:"rate_limited_wakes,omitempty"`
	// RejectedReplies counts platform replies the meter refused (bad tag,
	// replayed counter, wrong epoch or meter id).
	RejectedReplies uint32 `json:"rejected_replies,omitempty"`
}

// AckMessage is one command outcome reported by a meter.
type AckMessage struct {
	// CommandID is the command acknowledged.
	CommandID string `json:"command_id"`
	// Status is AckApplied or AckRejected.
	Status string `json:"status"`
	// Bay is the bay the command was for.
	Bay string `json:"bay"`
	// PaidUntil is the bay's paid-until time after applying (RFC 3339).
	PaidUntil string `json:"paid_until,omitempty"`
	// Reason explains a rejection.
	Reason string `json:"reason,omitempty"`
}

// Reply is the JSON body of every platform-to-meter envelope.
type Reply struct {
	// Commands are all commands pending for the meter (now delivered).
	Commands []CommandMessage `json:"commands"`
	// Upload answers an upload message; nil otherwise.
	Upload *UploadResult `json:"upload,omitempty"`
	// ServerTime is the platform clock, for the meter's clock check.
	ServerTime time.Time `json:"server_time"`
}

// Upload errors (UploadResult.Error).
const (
	// UploadErrChain means a record's hash or prev_hash does not continue the
	// stored chain (tampering or corruption).
	UploadErrChain = "chain"
	// UploadErrConflict means a record re-uploaded for an accepted sequence
	// number differs from the one stored.
	UploadErrConflict = "conflict"
	// UploadErrDuplicateTxn means a new record reuses an accepted txn_id.
	UploadErrDuplicateTxn = "duplicate_txn"
	// UploadErrInvalid means a record's fields are not valid.
	UploadErrInvalid = "invalid_record"
)

// UploadResult tells a meter which of its records the platform holds.
type UploadResult struct {
	// AcceptedThrough is the highest sequence number stored and passed on;
	// the meter may forget records up to it and must keep (and resend) later
	// ones.
	AcceptedThrough uint64 `json:"accepted_through"`
	// ResendFrom is non-zero when the upload skipped a sequence number: the
	// meter must resend from this one. Nothing past the gap was accepted.
	ResendFrom uint64 `json:"resend_from"`
	// Error is set when a record was refused (UploadErr...); RejectedSeq is
	// that record and nothing from it on was accepted.
	Error string `json:"error,omitempty"`
	// RejectedSeq is the sequence number of the refused record.
	RejectedSeq uint64 `json:"rejected_seq,omitempty"`
}

// CommandMessage is a command as a meter receives it.
type CommandMessage struct {
	// CommandID identifies the command; a meter applies each id once.
	CommandID string `json:"command_id"`
	// Type is CommandRenew or CommandRotateKey.
	Type string `json:"type"`
	// Bay is the bay to renew.
	Bay string `json:"bay"`
	// PaidUntil is the new paid-until time; the meter sets
	// paid_until = max(current, PaidUntil).
	PaidUntil time.Time `json:"paid_until"`
	// TxnID is the payment that bought the renewal.
	TxnID string `json:"txn_id"`
	// NotAfter is when the command stops being worth applying.
	NotAfter time.Time `json:"not_after"`
	// KeyEpoch is the epoch of the new key (rotate_key).
	KeyEpoch uint32 `json:"key_epoch,omitempty"`
	// WrappedKey is the new master key sealed under the current one,
	// base64 (rotate_key).
	WrappedKey string `json:"wrapped_key,omitempty"`
}
