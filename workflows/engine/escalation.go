package engine

import (
	"fmt"
	"time"
)

// Channels beyond SMS and voice.
const (
	// ChannelPush is a notification to the driver's app.
	ChannelPush = "push"
	// ChannelApp is an answer given in the app (buttons or the app API).
	ChannelApp = "app"
)

// Step of an escalation: a channel, tried after a delay without an answer.
type EscalationStep struct {
	// Channel is push, sms or voice.
	Channel string `yaml:"channel"`
	// After is how long to wait for an answer on the previous channel.
	After time.Duration `yaml:"after"`
}

// QuietHours is a daily window in the operator's time zone during which
// calls are not placed unless the driver opted in.
type QuietHours struct {
	// Start and End are "HH:MM"; a window may cross midnight (22:00-07:00).
	Start string `yaml:"start"`
	End   string `yaml:"end"`

	start, end int // minutes after midnight; equal means no quiet hours
}

// LeadTimeRange bounds the reminder lead time a driver may choose.
type LeadTimeRange struct {
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
}

func (s *Settings) validateEscalation(bad func(string, ...any)) {
	if len(s.Escalation) == 0 {
		s.Escalation = []EscalationStep{{Channel: ChannelSMS}}
	}
	seen := map[string]bool{}
	for i, e := range s.Escalation {
		switch e.Channel {
		case ChannelPush, ChannelSMS, ChannelVoice:
		default:
			bad("escalation[%d].channel: %q must be push, sms or voice", i, e.Channel)
		}
		if seen[e.Channel] {
			bad("escalation[%d].channel: %s is listed twice", i, e.Channel)
		}
		seen[e.Channel] = true
		if e.After < 0 || (i > 0 && e.After == 0) {
			bad("escalation[%d].after: every step after the first needs a positive delay", i)
		}
	}
	q := &s.QuietHours
	if q.Start != "" || q.End != "" {
		var err error
		if q.start, err = clockMinutes(q.Start); err != nil {
			bad("quiet_hours.start: %v; use a time like 22:00", err)
		}
		if q.end, err = clockMinutes(q.End); err != nil {
			bad("quiet_hours.end: %v; use a time like 07:00", err)
		}
	}
	r := s.LeadTimeRange
	switch {
	case r.Min == 0 && r.Max == 0:
		s.LeadTimeRange = LeadTimeRange{Min: s.LeadTime, Max: s.LeadTime}
	case r.Min <= 0:
		bad("lead_time_range.min: must be a positive duration such as 5m")
	case r.Max < r.Min:
		bad("lead_time_range.max: %s must not be below min (%s)", r.Max, r.Min)
	case s.LeadTime < r.Min || s.LeadTime > r.Max:
		bad("lead_time: %s is outside lead_time_range (%s to %s)", s.LeadTime, r.Min, r.Max)
	}
}

func clockMinutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", hhmm)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Quiet reports whether t falls in the quiet hours.
func (s *Settings) Quiet(t time.Time) bool {
	q := s.QuietHours
	if q.start == q.end {
		return false
	}
	lt := t.In(s.loc)
	m := lt.Hour()*60 + lt.Minute()
	if q.start < q.end {
		return m >= q.start && m < q.end
	}
	return m >= q.start || m < q.end
}

// ClampLeadTime keeps a driver's chosen lead time within the operator's range;
// zero means the operator's default.
func (s *Settings) ClampLeadTime(d time.Duration) time.Duration {
	if d == 0 {
		return s.LeadTime
	}
	return max(s.LeadTimeRange.Min, min(d, s.LeadTimeRange.Max))
}

// channelOrder is the driver's preferred channel first, then the
// operator's order.
func (s *Settings) channelOrder(preferred []string) []string {
	var out []string
	allowed := map[string]bool{}
	for _, e := range s.Escalation {
		allowed[e.Channel] = true
	}
	for _, c := range preferred {
		if allowed[c] && !contains(out, c) {
			out = append(out, c)
		}
	}
	for _, e := range s.Escalation {
		if !contains(out, e.Channel) {
			out = append(out, e.Channel)
		}
	}
	return out
}

// delayAt is how long the escalation waits before its i-th step.
func (s *Settings) delayAt(i int) time.Duration {
	if i < len(s.Escalation) {
		return s.Escalation[i].After
	}
	return s.Escalation[len(s.Escalation)-1].After
}

// SkipReason says why the escalation passed over a channel.
type SkipReason string

// Skip reasons.
const (
	// SkipQuietHours: no calls in the quiet hours unless the driver opted in.
	SkipQuietHours SkipReason = "quiet_hours"
	// SkipSMSOptedOut: the driver's phone opted out of SMS (STOP).
	SkipSMSOptedOut SkipReason = "sms_opted_out"
	// SkipNoApp: the driver has no app device to push to.
	SkipNoApp SkipReason = "no_app"
	// SkipUnknownChannel: the channel is not one the escalation can use.
	SkipUnknownChannel SkipReason = "unknown_channel"
)
