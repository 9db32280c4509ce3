package meter

import "errors"

var (
	// ErrNotFound means no meter with that id is in the fleet.
	ErrNotFound = errors.New("meter: not found")
	// ErrExists means the fleet already has a meter with that id, or the
	// platform refused the registration as a conflict (id or SIM number taken).
	ErrExists = errors.New("meter: already exists")
	// ErrInvalid means an argument failed validation.
	ErrInvalid = errors.New("meter: invalid argument")
	// ErrRegister means the platform refused the registration.
	ErrRegister = errors.New("meter: registration refused")
	// ErrExchange means an exchange with the platform failed.
	ErrExchange = errors.New("meter: exchange failed")
	// ErrClosed means the fleet is closed.
	ErrClosed = errors.New("meter: fleet closed")
)
