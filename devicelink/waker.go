package devicelink

import (
	"context"
	"errors"
)

// WakeRequest asks a Waker to wake one meter.
type WakeRequest struct {
	// MeterID is the meter to wake.
	MeterID string
	// SIMNumber is the E.164 number of the meter's SIM.
	SIMNumber string
	// AttemptID identifies the attempt; the carrier's status callback
	// carries it back to Service.CallStatus.
	AttemptID string
}

// WakeResult is what a Waker knows right after asking.
type WakeResult struct {
	// CallSID is the carrier's id of the wake call ("" if none).
	CallSID string
	// Status is the call's first status (e.g. "queued"); the final one
	// arrives through Service.CallStatus.
	Status string
}

// Waker wakes a sleeping meter so that it connects back. The wake carries no
// authority: the meter only connects back over its authenticated channel.
type Waker interface {
	// Wake places one wake attempt. An error means no call was placed (or
	// its fate is unknown); the platform retries on its back-off schedule.
	Wake(ctx context.Context, req WakeRequest) (WakeResult, error)
}

// ErrNoWaker is returned by NoneWaker: there is no way to wake meters, so
// commands wait for the meter's scheduled check-in.
var ErrNoWaker = errors.New("devicelink: no waker configured")

// NoneWaker never wakes a meter: commands wait for the meter's scheduled
// check-in (or expire at not_after).
type NoneWaker struct{}

var _ Waker = NoneWaker{}

// Wake implements Waker; it always returns ErrNoWaker.
func (NoneWaker) Wake(context.Context, WakeRequest) (WakeResult, error) {
	return WakeResult{}, ErrNoWaker
}
