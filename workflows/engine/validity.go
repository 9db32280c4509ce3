package engine

import "time"

// DefaultValidity is how long a message that refers to no deadline
// (confirmations, failures, status, refusals) is still worth delivering.
// Carriers may hold a text for hours; after this it is dropped instead.
const DefaultValidity = time.Hour

// QuoteExpiry is when the open quote can no longer be confirmed: the end of
// the grace period, when the stay is over. Prices depend on the stay, not on
// the clock, so a quote does not change before then.
func (s State) QuoteExpiry(set *Settings) time.Time { return s.GraceEnd(set) }

// validUntil is when a message stops being worth delivering: the moment what
// it refers to is over, so a carrier that holds it (SMS can sit queued for
// hours) drops it rather than deliver it after the fact.
//
//   - the expiry notice ("bay 12 ends 12:30") refers to the paid-until time;
//   - a quote refers to the quote's expiry;
//   - the grace alert, the menu and the app link offer a renewal that is
//     possible until the grace period ends;
//   - "we will text you at 12:37" refers to that alert;
//   - everything else is a confirmation or a plain statement and keeps
//     DefaultValidity.
//
// It never lies beyond DefaultValidity from now. A deadline already passed
// is returned as it is: the sender then does not send the message at all.
func (s *stepper) validUntil(template string) time.Time {
	limit := s.now.Add(DefaultValidity)
	var at time.Time
	switch template {
	case "notice", "notice_debit", "notice_max_stay":
		at = s.st.PaidUntil
	case "quote", "quote_capped":
		at = s.st.GraceEnd(s.set)
	case "grace_alert", "menu", "app_link":
		at = s.st.GraceEnd(s.set)
	case "alert_scheduled":
		at = s.st.GraceEnd(s.set)
		if t, ok := s.st.Timers[TimerGraceAlert]; ok && t.At.Before(at) {
			at = t.At
		}
	default:
		return limit
	}
	if at.After(limit) {
		return limit
	}
	return at
}

// expired reports whether what a message refers to is over, so it is not
// worth sending on any channel.
func (s *stepper) expired(template string) bool {
	return !s.now.Before(s.validUntil(template))
}
