package devicelink

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// MeterEvent is one operator-visible event of a meter: a security event or a
// status event.
type MeterEvent struct {
	// At is when the platform recorded it.
	At time.Time `json:"at"`
	// Kind is one of the Security... or Status... constants.
	Kind string `json:"kind"`
	// Detail says more, for the operator.
	Detail string `json:"detail,omitempty"`
}

// Security event kinds.
const (
	// SecurityUnsolicitedWake: a hello claimed reason wake but matched no
	// wake call within the connect-back deadline.
	SecurityUnsolicitedWake = "unsolicited_wake"
	// SecurityReplay: an authentic envelope with an old counter (replayed,
	// duplicated or reordered).
	SecurityReplay = "replay"
	// SecurityAuth: an envelope for the meter failed authentication
	// (altered bits, wrong key, or sealed for another meter id).
	SecurityAuth = "auth"
	// SecurityEpoch: an envelope sealed under an unknown or retired key
	// epoch.
	SecurityEpoch = "epoch"
	// SecurityMalformed: an envelope naming the meter did not parse.
	SecurityMalformed = "malformed"
	// SecurityExpiredCommand: the meter refused a command as past its
	// not_after by its own clock.
	SecurityExpiredCommand = "expired_command"
	// SecurityRefusedCalls: the meter refused wake calls from unknown or
	// withheld caller ids since its last report.
	SecurityRefusedCalls = "refused_calls"
	// SecurityCallMismatch: a wake call status arrived for an attempt with a
	// different call sid.
	SecurityCallMismatch = "call_mismatch"
	// SecurityRejectedReplies: the meter refused platform replies (bad tag,
	// replayed counter, wrong epoch or meter id) since its last report.
	SecurityRejectedReplies = "rejected_replies"
)

// Status event kinds. Flags raise an event when they become set and another
// (Kind + "_cleared") when they clear.
const (
	// StatusBatteryLow: the battery is below Config.BatteryLowPct.
	StatusBatteryLow = "battery_low"
	// StatusTamper: the case or coin path was opened.
	StatusTamper = "tamper"
	// StatusCoverOpen: the service cover is open.
	StatusCoverOpen = "cover_open"
	// StatusLight: the light sensor inside the case sees light.
	StatusLight = "light"
	// StatusTilt: the meter is not upright.
	StatusTilt = "tilt"
	// StatusVibration: the vibration sensor tripped.
	StatusVibration = "vibration"
	// StatusTemperature: the internal temperature is out of range.
	StatusTemperature = "temperature"
	// StatusHumidity: the internal humidity is above range.
	StatusHumidity = "humidity"
	// StatusReboot: the meter's boot count went up.
	StatusReboot = "reboot"
	// StatusWakeRateLimited: the meter ignored wake calls to respect its
	// wake rate limit.
	StatusWakeRateLimited = "wake_rate_limited"
	// StatusMissing: no contact for Config.MissingMeterAlarm.
	StatusMissing = "missing"
	// StatusBack: a missing meter is in contact again.
	StatusBack = "back"
)

// securityKindFor maps an envelope reject reason to a security event kind.
func securityKindFor(reason string) string {
	switch reason {
	case "replay":
		return SecurityReplay
	case "epoch":
		return SecurityEpoch
	case "malformed":
		return SecurityMalformed
	}
	return SecurityAuth
}

// securityEvent records a security event of a meter, counts it and raises
// the operator alert it calls for (see securityAlert).
func (s *Service) securityEvent(ctx context.Context, meterID, kind, detail string) error {
	s.metrics.security(kind)
	if err := s.pushEvent(ctx, keySecurity(meterID), MeterEvent{At: s.now().UTC(), Kind: kind, Detail: detail}); err != nil {
		return err
	}
	return s.securityAlert(ctx, meterID, kind, detail)
}

// statusEvent records a status event of a meter and counts it.
func (s *Service) statusEvent(ctx context.Context, meterID, kind, detail string) error {
	s.metrics.status(kind)
	return s.pushEvent(ctx, keyStatusEvents(meterID), MeterEvent{At: s.now().UTC(), Kind: kind, Detail: detail})
}

func (s *Service) pushEvent(ctx context.Context, key string, e MeterEvent) error {
	b, _ := json.Marshal(e)
	pipe := s.rdb.Pipeline()
	pipe.LPush(ctx, key, b)
	pipe.LTrim(ctx, key, 0, int64(s.cfg.MaxEventsPerMeter-1))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("devicelink: event %s: %w", e.Kind, err)
	}
	return nil
}

// events reads a meter's event list, newest first.
func (s *Service) events(ctx context.Context, key string) ([]MeterEvent, error) {
	raw, err := s.rdb.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("devicelink: events: %w", err)
	}
	out := make([]MeterEvent, 0, len(raw))
	for _, r := range raw {
		var e MeterEvent
		if json.Unmarshal([]byte(r), &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// SecurityEvents returns a meter's recorded security events, newest first.
func (s *Service) SecurityEvents(ctx context.Context, meterID string) ([]MeterEvent, error) {
	if _, err := s.loadMeter(ctx, meterID); err != nil {
		return nil, err
	}
	return s.events(ctx, keySecurity(meterID))
}

// StatusEvents returns a meter's recorded status events, newest first.
func (s *Service) StatusEvents(ctx context.Context, meterID string) ([]MeterEvent, error) {
	if _, err := s.loadMeter(ctx, meterID); err != nil {
		return nil, err
	}
	return s.events(ctx, keyStatusEvents(meterID))
}

// statusEvents turns the changes between the previous and the new hello
// flags into events.
func (s *Service) statusEvents(ctx context.Context, meterID string, prev, cur *Flags) error {
	was := Flags{BatteryPct: 100, TempC: (s.cfg.TempMinC + s.cfg.TempMaxC) / 2}
	if prev != nil {
		was = *prev
	}
	type change struct {
		kind      string
		before    bool
		after     bool
		detail    string
		noCleared bool
	}
	changes := []change{
		{StatusBatteryLow, was.BatteryPct < s.cfg.BatteryLowPct, cur.BatteryPct < s.cfg.BatteryLowPct, fmt.Sprintf("battery %d%%", cur.BatteryPct), false},
		{StatusTamper, was.Tamper, cur.Tamper, "", false},
		{StatusCoverOpen, was.CoverOpen, cur.CoverOpen, "", false},
		{StatusLight, was.Light, cur.Light, "", false},
		{StatusTilt, was.Tilt, cur.Tilt, "", false},
		{StatusVibration, was.Vibration, cur.Vibration, "", false},
		{StatusTemperature, s.tempOut(was.TempC), s.tempOut(cur.TempC), fmt.Sprintf("%.1f °C", cur.TempC), false},
		{StatusHumidity, was.HumidityPct > s.cfg.HumidityMaxPct, cur.HumidityPct > s.cfg.HumidityMaxPct, fmt.Sprintf("%.0f %% RH", cur.HumidityPct), false},
	}
	if prev != nil {
		changes = append(changes,
			change{StatusReboot, false, cur.BootCount > prev.BootCount, fmt.Sprintf("boot count %d -> %d", prev.BootCount, cur.BootCount), true},
			change{StatusWakeRateLimited, false, cur.RateLimitedWakes > prev.RateLimitedWakes, fmt.Sprintf("%d wake calls ignored", cur.RateLimitedWakes-min(cur.RateLimitedWakes, prev.RateLimitedWakes)), true},
		)
	}
	for _, c := range changes {
		switch {
		case c.after && !c.before:
			if err := s.statusEvent(ctx, meterID, c.kind, c.detail); err != nil {
				return err
			}
		case c.before && !c.after && !c.noCleared:
			if err := s.statusEvent(ctx, meterID, c.kind+"_cleared", c.detail); err != nil {
				return err
			}
		}
	}
	if prev != nil && cur.RefusedCalls > prev.RefusedCalls {
		if err := s.securityEvent(ctx, meterID, SecurityRefusedCalls,
			fmt.Sprintf("%d calls from unknown or withheld numbers refused", cur.RefusedCalls-prev.RefusedCalls)); err != nil {
			return err
		}
	}
	if prev != nil && cur.RejectedReplies > prev.RejectedReplies {
		if err := s.securityEvent(ctx, meterID, SecurityRejectedReplies,
			fmt.Sprintf("%d platform replies refused by the meter", cur.RejectedReplies-prev.RejectedReplies)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) tempOut(c float64) bool { return c < s.cfg.TempMinC || c > s.cfg.TempMaxC }
