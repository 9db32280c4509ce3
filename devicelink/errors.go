package devicelink

import "errors"

// Envelope errors. Open returns exactly one of these (possibly wrapped) for an
// envelope it refuses; the HTTP handler maps them to plain status codes.
var (
	// ErrMalformed means the bytes are not a well-formed envelope of a known
	// version and type, or the authenticated body is not a valid message.
	ErrMalformed = errors.New("devicelink: malformed envelope")
	// ErrAuth means the envelope failed authentication (wrong key, altered
	// header or ciphertext).
	ErrAuth = errors.New("devicelink: envelope authentication failed")
	// ErrReplay means the envelope's counter is not above the last counter
	// accepted in its direction.
	ErrReplay = errors.New("devicelink: replayed envelope counter")
	// ErrUnknownMeter means no meter with the envelope's meter id is registered.
	ErrUnknownMeter = errors.New("devicelink: unknown meter")
	// ErrEpoch means the envelope's key epoch is not the meter's current one.
	ErrEpoch = errors.New("devicelink: wrong key epoch")
)

// Registry and command errors.
var (
	// ErrNotFound means the meter or command does not exist.
	ErrNotFound = errors.New("devicelink: not found")
	// ErrExists means a meter with that id is already registered.
	ErrExists = errors.New("devicelink: already exists")
	// ErrSIMInUse means another registered meter already has that SIM
	// number: a wake call to it would reach the other meter.
	ErrSIMInUse = errors.New("devicelink: sim number registered to another meter")
	// ErrInvalid means an argument failed validation; the wrapped message says
	// which.
	ErrInvalid = errors.New("devicelink: invalid argument")
	// ErrConflict means a command id is already used for a different meter.
	ErrConflict = errors.New("devicelink: command id used for another meter")
	// ErrWrongState means a command is not in a state that allows the
	// requested transition.
	ErrWrongState = errors.New("devicelink: command in wrong state")
)
