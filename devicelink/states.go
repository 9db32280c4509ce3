package devicelink

import (
	"slices"
	"time"
)

// CommandState is where a command is in its life.
//
//	queued -> waking -> in_session -> delivered -> accepted -> acked
//
// A polling meter skips waking and in_session: queued -> delivered. Terminal
// states: acked, rejected, failed, expired, cancelled, superseded. in_doubt
// means a session ended (or not_after passed) after delivery without an
// outcome; the meter's next hello, which lists recently applied command ids,
// or a late ack resolves it.
type CommandState string

// Command states.
const (
	// StateQueued: stored, not yet sent.
	StateQueued CommandState = "queued"
	// StateWaking: the meter is being woken to collect it.
	StateWaking CommandState = "waking"
	// StateInSession: the meter has a session open; sending is imminent.
	StateInSession CommandState = "in_session"
	// StateDelivered: sent to the meter in a reply, outcome not yet known.
	StateDelivered CommandState = "delivered"
	// StateAccepted: the meter reported it applied; the Sink has not yet
	// taken the outcome.
	StateAccepted CommandState = "accepted"
	// StateAcked: applied and passed to the Sink. Terminal.
	StateAcked CommandState = "acked"
	// StateRejected: the meter refused it. Terminal.
	StateRejected CommandState = "rejected"
	// StateFailed: it could not be delivered or was not applied. Terminal.
	StateFailed CommandState = "failed"
	// StateExpired: not_after passed before delivery. Terminal.
	StateExpired CommandState = "expired"
	// StateCancelled: withdrawn before delivery. Terminal.
	StateCancelled CommandState = "cancelled"
	// StateSuperseded: a newer renewal for the same bay replaced it before
	// delivery. Terminal.
	StateSuperseded CommandState = "superseded"
	// StateInDoubt: delivered, but the outcome is unknown.
	StateInDoubt CommandState = "in_doubt"
)

// AllStates lists every command state.
var AllStates = []CommandState{
	StateQueued, StateWaking, StateInSession, StateDelivered, StateAccepted, StateAcked,
	StateRejected, StateFailed, StateExpired, StateCancelled, StateSuperseded, StateInDoubt,
}

// transitions is the single table of allowed state changes; the Lua scripts
// receive the allowed source states computed from it.
var transitions = map[CommandState][]CommandState{
	StateQueued:     {StateWaking, StateInSession, StateDelivered, StateAccepted, StateRejected, StateExpired, StateCancelled, StateSuperseded, StateFailed},
	StateWaking:     {StateQueued, StateInSession, StateDelivered, StateAccepted, StateRejected, StateExpired, StateCancelled, StateSuperseded, StateFailed},
	StateInSession:  {StateWaking, StateDelivered, StateAccepted, StateRejected, StateExpired, StateCancelled, StateSuperseded, StateFailed},
	StateDelivered:  {StateAccepted, StateRejected, StateInDoubt, StateFailed},
	StateInDoubt:    {StateDelivered, StateAccepted, StateRejected, StateFailed},
	StateAccepted:   {StateAcked},
	StateAcked:      nil,
	StateRejected:   nil,
	StateFailed:     nil,
	StateExpired:    nil,
	StateCancelled:  nil,
	StateSuperseded: nil,
}

// Terminal reports whether no transition leaves s.
func (s CommandState) Terminal() bool {
	next, ok := transitions[s]
	return ok && len(next) == 0
}

// Open reports whether a command in s still waits for an outcome from the
// meter (it is kept in the meter's open set).
func (s CommandState) Open() bool {
	switch s {
	case StateQueued, StateWaking, StateInSession, StateDelivered, StateInDoubt:
		return true
	}
	return false
}

// CanTransition reports whether a command may move from one state to another.
func CanTransition(from, to CommandState) bool {
	return slices.Contains(transitions[from], to)
}

// sourcesOf lists the states that may move to to.
func sourcesOf(to CommandState) []CommandState {
	var out []CommandState
	for _, s := range AllStates {
		if CanTransition(s, to) {
			out = append(out, s)
		}
	}
	return out
}

// Transition is one recorded state change of a command.
type Transition struct {
	// From is the previous state ("" for creation).
	From CommandState `json:"from"`
	// To is the new state.
	To CommandState `json:"to"`
	// At is when it happened (platform clock).
	At time.Time `json:"at"`
	// Note says why.
	Note string `json:"note,omitempty"`
}

// CommandRecord is a command with its state and history.
type CommandRecord struct {
	RenewCommand
	// Type is CommandRenew or CommandRotateKey.
	Type string `json:"type"`
	// KeyEpoch is the epoch of the key a rotate_key command installs.
	KeyEpoch uint32 `json:"key_epoch,omitempty"`
	// State is the current state.
	State CommandState `json:"state"`
	// CreatedAt is when the command was enqueued.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is the time of the last transition.
	UpdatedAt time.Time `json:"updated_at"`
	// Deliveries counts replies that carried the command.
	Deliveries int `json:"deliveries"`
	// ResultPaidUntil is the paid-until time the meter reported.
	ResultPaidUntil time.Time `json:"result_paid_until,omitzero"`
	// Reason explains a rejection, failure or supersession.
	Reason string `json:"reason,omitempty"`
	// Reboots counts sessions that ended with a meter reboot after the
	// command was delivered; Config.PoisonReboots of them fail it.
	Reboots int `json:"reboots,omitempty"`
	// NextAttemptAt is when the platform next acts for the command (wake
	// call, retry, session check or expiry) while it is open; zero when it
	// is not open.
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// History lists every transition, oldest first.
	History []Transition `json:"history"`

	wrappedKey    string // rotate_key: the new key as delivered
	deliveredBoot uint64 // the meter's boot count when last delivered
}
