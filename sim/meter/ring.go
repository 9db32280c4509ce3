package meter

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Call outcomes Ring returns, as the carrier reports them.
const (
	// OutcomeBusy: the meter rejected the call (it never answers).
	OutcomeBusy = "busy"
	// OutcomeNoAnswer: the call did not reach the meter.
	OutcomeNoAnswer = "no-answer"
)

// withheld caller IDs a meter always drops.
var withheld = []string{"", "anonymous", "private", "restricted", "unknown", "unavailable"}

// Ring delivers a call to the meter whose SIM number is simNumber; the
// simulated carrier calls it for calls to numbers it does not own. handled
// is false when no meter of the fleet has that number. The meter never
// answers: it reads the caller ID, drops withheld numbers and numbers not on
// its allow-list (counting them as refused calls), rejects the call
// ("busy"), and, for an allowed caller within its wake rate limit, connects
// back after its connect-back delay with a hello of reason "wake". With the
// RadioUnreachable fault the ring never arrives ("no-answer").
func (f *Fleet) Ring(ctx context.Context, simNumber, callerID string) (outcome string, handled bool) {
	f.mu.Lock()
	var m *Meter
	for _, id := range f.order {
		if f.meters[id].spec.SIMNumber == simNumber && simNumber != "" {
			m = f.meters[id]
			break
		}
	}
	f.mu.Unlock()
	if m == nil {
		return "", false
	}
	return m.ring(callerID), true
}

// ring is the meter's handling of one incoming call.
func (m *Meter) ring(callerID string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats.rings++
	now := m.nowLocked()
	if m.faults.RadioUnreachable {
		m.stats.unreachable++
		m.logLocked("fault: radio unreachable, a call did not arrive")
		return OutcomeNoAnswer
	}
	caller := strings.TrimSpace(callerID)
	if slices.Contains(withheld, strings.ToLower(caller)) {
		m.stats.refusedCalls++
		m.logLocked("call with a withheld caller id refused")
		return OutcomeBusy
	}
	if !m.allow[caller] {
		m.stats.refusedCalls++
		m.logLocked("call from " + maskNumber(caller) + " (not on the allow-list) refused")
		return OutcomeBusy
	}
	m.wakeLog = slices.DeleteFunc(m.wakeLog, func(t time.Time) bool { return now.Sub(t) >= time.Hour })
	if len(m.wakeLog) >= m.maxWakesPerHour() {
		m.stats.rateLimited++
		m.logLocked("wake call from " + maskNumber(caller) + " refused: wake rate limit reached")
		return OutcomeBusy
	}
	m.wakeLog = append(m.wakeLog, now)
	m.stats.wakes++
	at := now.Add(m.connectBackDelay())
	if m.wakeAt.IsZero() || at.Before(m.wakeAt) {
		m.wakeAt = at
	}
	m.logLocked(fmt.Sprintf("wake call from %s rejected; connecting back at %s", maskNumber(caller), m.wakeAt.UTC().Format("15:04:05 UTC")))
	return OutcomeBusy
}

// maskNumber keeps the first 4 and last 2 characters of a phone number.
func maskNumber(s string) string {
	if len(s) <= 6 {
		return "***"
	}
	return s[:4] + "***" + s[len(s)-2:]
}
