package devicelink

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// SecurityAlert is an operator alert raised by a meter's security event.
type SecurityAlert struct {
	// ID identifies the alert: one incident (one kind of event of one meter
	// in one Config.SecurityAlertWindow) has one id, so raising it again is
	// harmless when the alert sink de-duplicates by id.
	ID string
	// At is when the platform raised it.
	At time.Time
	// MeterID is the meter the events concern.
	MeterID string
	// Code is "security_" and the event kind, with "_burst" for kinds that
	// alert only when Config.SecurityBurst of them arrive in one window.
	Code string
	// Message says what happened, for the operator. It names the meter and
	// never carries keys or phone numbers.
	Message string
}

// AlertSink receives operator alerts raised by security events. The host
// lists them with its other operator alerts; it should de-duplicate by ID.
type AlertSink interface {
	// RaiseSecurityAlert records one alert; an error makes the meter's
	// exchange fail (it retries), except for refused envelopes, whose
	// alert errors are logged.
	RaiseSecurityAlert(ctx context.Context, a SecurityAlert) error
}

// alertPolicy says how a security event kind reaches the operator.
type alertPolicy int

const (
	alertNever alertPolicy = iota // recorded and counted only
	alertFirst                    // the first event of a window raises an alert
	alertBurst                    // Config.SecurityBurst events in a window raise one
)

// alertPolicyFor maps a security event kind to its policy. Single refused
// envelopes (bad tag, unknown epoch, garbage) are common line noise and
// alert only in bursts; a replayed authentic envelope, a wake hello nobody
// asked for, a foreign call sid or refused calls and replies alert at once.
// A command the meter refused as expired points at clock skew, not an
// attack.
func alertPolicyFor(kind string) alertPolicy {
	switch kind {
	case SecurityAuth, SecurityEpoch, SecurityMalformed:
		return alertBurst
	case SecurityUnsolicitedWake, SecurityReplay, SecurityCallMismatch, SecurityRefusedCalls, SecurityRejectedReplies:
		return alertFirst
	}
	return alertNever
}

// securityAlert raises the operator alert a security event calls for, if
// any. Bursts are counted in a Redis counter per meter, kind and window
// (fixed windows of Config.SecurityAlertWindow on the service clock); the
// counter expires after two windows. The alert id names the window, so one
// burst, or one run of unsolicited wakes, gives one alert however many
// events it holds.
func (s *Service) securityAlert(ctx context.Context, meterID, kind, detail string) error {
	policy := alertPolicyFor(kind)
	if s.cfg.Alerts == nil || policy == alertNever {
		return nil
	}
	now := s.now()
	window := s.cfg.SecurityAlertWindow
	bucket := strconv.FormatInt(now.UnixMilli()/window.Milliseconds(), 10)
	code := "security_" + kind
	msg := fmt.Sprintf("meter %s: %s: %s", meterID, kind, detail)
	if policy == alertBurst {
		key := keySecurityBurst(meterID, kind, bucket)
		pipe := s.rdb.TxPipeline()
		n := pipe.Incr(ctx, key)
		pipe.PExpire(ctx, key, 2*window)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("devicelink: security burst of %s: %w", meterID, err)
		}
		if n.Val() < int64(s.cfg.SecurityBurst) {
			return nil
		}
		code += "_burst"
		msg = fmt.Sprintf("meter %s: %d or more %s refusals within %s (last: %s)", meterID, s.cfg.SecurityBurst, kind, window, detail)
	}
	a := SecurityAlert{ID: "devicelink:" + meterID + ":" + code + ":" + bucket, At: now.UTC(), MeterID: meterID, Code: code, Message: msg}
	if err := s.cfg.Alerts.RaiseSecurityAlert(ctx, a); err != nil {
		return fmt.Errorf("devicelink: security alert %s: %w", a.ID, err)
	}
	return nil
}
