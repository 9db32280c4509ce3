package meter

import (
	"net/http"
	"time"
)

// Config configures a Fleet.
type Config struct {
	// ServerURL is the platform's base URL, e.g. http://127.0.0.1:8080; the
	// meters post to ServerURL + /device/v1/exchange.
	ServerURL string
	// AdminURL is the base of the platform's admin API, e.g.
	// http://127.0.0.1:8080/admin/v1; meters register at AdminURL + /meters.
	AdminURL string
	// AdminToken is sent as "Authorization: Bearer <token>" to the admin API.
	AdminToken string
	// PollInterval is how often each meter's loop runs (real time): an
	// online meter polls, an awake meter polls or goes back to sleep, a
	// sleeping one checks for a due connect-back or check-in; default 500ms.
	PollInterval time.Duration
	// Clock gives the meters' time (payments, paid-until, events, wake
	// delays, idle time, check-ins); default time.Now.
	Clock func() time.Time
	// HTTPClient makes the meters' requests; default a client with a 10s
	// timeout.
	HTTPClient *http.Client
	// PlatformCallerID is the E.164 caller ID the platform's wake calls come
	// from: the default allow-list of every meter. Empty means a meter
	// without its own allow-list refuses every wake call.
	PlatformCallerID string
	// ConnectBackDelay is how long (meter clock) after accepting a wake call
	// a meter connects back; default 0 (at its next loop run).
	ConnectBackDelay time.Duration
	// IdleTimeout is how long (meter clock) an awake sleeping meter stays
	// connected after its last activity before it says bye; default 5s.
	IdleTimeout time.Duration
	// CheckInInterval is the period of the scheduled check-ins; default 6h.
	CheckInInterval time.Duration
	// MaxWakesPerHour rate-limits accepted wake calls per meter; default 12.
	MaxWakesPerHour int
}

// DefaultConfig returns defaults for a platform on 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		ServerURL:       "http://127.0.0.1:8080",
		AdminURL:        "http://127.0.0.1:8080/admin/v1",
		PollInterval:    500 * time.Millisecond,
		Clock:           time.Now,
		HTTPClient:      &http.Client{Timeout: 10 * time.Second},
		IdleTimeout:     5 * time.Second,
		CheckInInterval: 6 * time.Hour,
		MaxWakesPerHour: 12,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.PollInterval <= 0 {
		c.PollInterval = d.PollInterval
	}
	if c.Clock == nil {
		c.Clock = d.Clock
	}
	if c.HTTPClient == nil {
		c.HTTPClient = d.HTTPClient
	}
	if c.ConnectBackDelay < 0 {
		c.ConnectBackDelay = 0
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.CheckInInterval <= 0 {
		c.CheckInInterval = d.CheckInInterval
	}
	if c.MaxWakesPerHour <= 0 {
		c.MaxWakesPerHour = d.MaxWakesPerHour
	}
	return c
}

// Spec describes a meter to add. Zero fields take the fleet's Config.
type Spec struct {
	// ID is the meter id (1-64 of A-Z a-z 0-9 . _ -).
	ID string `json:"id"`
	// SIMNumber is the E.164 number of the meter's SIM.
	SIMNumber string `json:"sim_number"`
	// Zone is the operator's zone.
	Zone string `json:"zone"`
	// Location describes where the meter stands.
	Location string `json:"location"`
	// Bays are the bays the meter sells time for.
	Bays []string `json:"bays"`
	// Currency of the payments; default HKD.
	Currency string `json:"currency,omitempty"`
	// Online keeps the meter connected, polling at every loop run (no wake
	// needed); by default a meter sleeps and connects only to upload
	// payments, at check-ins, after a boot and when woken by a call.
	Online bool `json:"online,omitempty"`
	// AllowCallers is the meter's caller-ID allow-list (E.164); empty means
	// Config.PlatformCallerID.
	AllowCallers []string `json:"allow_callers,omitempty"`
	// ConnectBackDelayMS overrides Config.ConnectBackDelay (milliseconds).
	ConnectBackDelayMS int `json:"connect_back_delay_ms,omitempty"`
	// IdleSeconds overrides Config.IdleTimeout.
	IdleSeconds int `json:"idle_seconds,omitempty"`
	// CheckInSeconds overrides Config.CheckInInterval.
	CheckInSeconds int `json:"check_in_seconds,omitempty"`
	// MaxWakesPerHour overrides Config.MaxWakesPerHour.
	MaxWakesPerHour int `json:"max_wakes_per_hour,omitempty"`
}

// Power-loss points (Faults.PowerLoss): where, in taking a renewal command,
// the meter loses power and reboots.
const (
	// PowerLossBeforeJournal: the command is lost; the meter reboots without
	// knowing it.
	PowerLossBeforeJournal = "before_journal"
	// PowerLossAfterJournal: the command is journaled but not executed; the
	// meter executes it from its journal when it boots.
	PowerLossAfterJournal = "after_journal"
	// PowerLossAfterExecute: the command is applied and remembered, its ack
	// never sent; the boot hello lists it as applied.
	PowerLossAfterExecute = "after_execute"
	// PowerLossAfterAck: the ack reaches the platform but the meter dies
	// before reading the reply.
	PowerLossAfterAck = "after_ack"
)

// Faults make a meter misbehave. Counts are used up one event at a time;
// flags apply once, except RadioUnreachable and ClockSkewSeconds, which stay
// until changed.
type Faults struct {
	// DropReplies discards the platform's next n replies after the platform
	// processed the message (a connection lost on the way back): the meter
	// sends the same records and acks again.
	DropReplies int `json:"drop_replies"`
	// DropSends loses the next n messages before they reach the platform.
	DropSends int `json:"drop_sends"`
	// DuplicateSends sends each of the next n messages twice (the platform
	// refuses the copy as a replay).
	DuplicateSends int `json:"duplicate_sends"`
	// ReorderSends holds back each of the next n messages and delivers it
	// after the following one (the platform refuses the late one as a
	// replay; its content is sent again).
	ReorderSends int `json:"reorder_sends"`
	// ReplayOld sends an old envelope again before each of the next n
	// messages (refused as a replay).
	ReplayOld int `json:"replay_old"`
	// CorruptReplies flips a bit in each of the next n platform replies
	// (the meter refuses them and sends again).
	CorruptReplies int `json:"corrupt_replies"`
	// LoseAcks loses the acks of the commands in the next reply that carries
	// any (a power cut right after applying them); applied command ids are
	// kept, so a redelivered command is recognised and acked again without
	// being applied twice.
	LoseAcks bool `json:"lose_acks"`
	// PowerLoss is where the meter loses power when it next takes a renewal
	// (PowerLoss... constants); it reboots (boot count + 1) and says hello
	// with reason boot at its next loop run.
	PowerLoss string `json:"power_loss,omitempty"`
	// PowerLossTimes is how many renewals PowerLoss hits; default 1.
	PowerLossTimes int `json:"power_loss_times,omitempty"`
	// ClockSkewSeconds shifts the meter's clock (e.g. ±600).
	ClockSkewSeconds int `json:"clock_skew_seconds,omitempty"`
	// RadioUnreachable: wake calls do not reach the meter (the carrier
	// reports no-answer).
	RadioUnreachable bool `json:"radio_unreachable,omitempty"`
	// ConnectBackFails makes the next n connect-backs after an accepted wake
	// call fail (the meter goes back to sleep).
	ConnectBackFails int `json:"connect_back_fails,omitempty"`
	// TamperNext alters the next payment record after it was hashed.
	TamperNext bool `json:"tamper_next"`
	// SkipNext leaves the next payment record out of its first upload,
	// making a gap in the sequence.
	SkipNext bool `json:"skip_next"`
	// ReuploadAll forgets what the platform accepted, so the next upload
	// sends every record again from seq 1.
	ReuploadAll bool `json:"reupload_all"`
}

// Sensors is what a meter's sensors report in its hello flags.
type Sensors struct {
	// BatteryPct is the battery charge, 0..100.
	BatteryPct int `json:"battery_pct"`
	// TempC is the internal temperature.
	TempC float64 `json:"temp_c"`
	// HumidityPct is the internal relative humidity.
	HumidityPct float64 `json:"humidity_pct"`
	// Tamper is set when the case or coin path was opened.
	Tamper bool `json:"tamper"`
	// CoverOpen is set when the service cover is open.
	CoverOpen bool `json:"cover_open"`
	// Light is set when the light sensor inside the case sees light.
	Light bool `json:"light"`
	// Tilt is set when the meter is not upright.
	Tilt bool `json:"tilt"`
	// Vibration is set when the vibration sensor tripped.
	Vibration bool `json:"vibration"`
}

// defaultSensors is a healthy meter.
var defaultSensors = Sensors{BatteryPct: 97, TempC: 24.5, HumidityPct: 55}
