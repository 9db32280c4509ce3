package devicelink

import (
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes the device link service. Every timer is operator config; the
// defaults are the design's starting values.
type Config struct {
	// MaxBodyBytes caps the size of an exchange request body.
	MaxBodyBytes int64
	// CommandTTL is how long a command stays deliverable when neither its
	// NotAfter nor its PaidUntil gives a later deadline.
	CommandTTL time.Duration
	// MaxRecordsPerUpload caps the records accepted from one upload message.
	MaxRecordsPerUpload int
	// MaxCommandsPerReply caps the commands carried by one reply.
	MaxCommandsPerReply int
	// SinkBatch caps the stored records passed to the Sink per exchange.
	SinkBatch int

	// WakeBatchWindow is how long a new command waits before the meter is
	// woken, so that commands enqueued together ride on one call; a
	// negative value wakes at once.
	WakeBatchWindow time.Duration
	// ConnectBackDeadline is how long after a wake call the meter's hello
	// with reason "wake" is expected; a wake hello outside every attempt's
	// deadline is a security event.
	ConnectBackDeadline time.Duration
	// WakeBackoff lists the waits between wake attempts; after the last one
	// the wait is WakeRetryEvery with WakeJitter.
	WakeBackoff []time.Duration
	// WakeRetryEvery is the wait between wake attempts once WakeBackoff is
	// used up.
	WakeRetryEvery time.Duration
	// WakeJitter is the relative jitter (0.2 = ±20 %) applied to
	// WakeRetryEvery.
	WakeJitter float64
	// SessionIdle is how long after its last exchange a meter counts as
	// having an open session (commands then wait for its next poll instead
	// of a wake call), and after which a delivered command without an
	// outcome is in doubt.
	SessionIdle time.Duration
	// DoubtGrace is how long after not_after the platform keeps waking a
	// meter to learn the outcome of an in-doubt command before failing it
	// as "outcome unknown".
	DoubtGrace time.Duration
	// CheckInInterval is the meters' scheduled check-in period (reported in
	// the operator view; the meters own the schedule).
	CheckInInterval time.Duration
	// MissingMeterAlarm is the silence after which a meter is reported
	// missing (a status event, once per silence).
	MissingMeterAlarm time.Duration
	// PoisonReboots is the number of sessions a delivered command may end
	// with a meter reboot before it is failed as poison.
	PoisonReboots int
	// OldEpochWindow is how long after a key rotation completes the meter's
	// previous key epoch is still accepted.
	OldEpochWindow time.Duration
	// SweepInterval is the period of the sweep task, which recovers lost
	// wake tasks, passes pending outcomes on and raises missing-meter
	// alarms.
	SweepInterval time.Duration
	// SweepBatch caps the meters one sweep handles per kind of work.
	SweepBatch int
	// MaxEventsPerMeter caps the stored security and status events (each)
	// and wake attempts of a meter.
	MaxEventsPerMeter int
	// BatteryLowPct is the battery level below which a status event is
	// raised.
	BatteryLowPct int
	// TempMinC and TempMaxC bound the normal internal temperature.
	TempMinC, TempMaxC float64
	// HumidityMaxPct is the highest normal internal relative humidity.
	HumidityMaxPct float64

	// Tasks enqueues the device link's asynq tasks (wake, sweep); nil means
	// no task is enqueued and only Sweep/HandleWake called by the host move
	// timers on.
	Tasks *asynq.Client
	// TaskQueue is the asynq queue of the device link's tasks; the worker
	// must serve it.
	TaskQueue string
	// Waker wakes sleeping meters; nil means NoneWaker (commands wait for
	// the meter's scheduled check-in).
	Waker Waker
	// Random returns a number in [0, 1) for jitter; nil means math/rand.
	Random func() float64
	// Registerer receives the package's Prometheus metrics; nil means no
	// metrics.
	Registerer prometheus.Registerer
	// Logger is the structured logger; nil means slog.Default().
	Logger *slog.Logger

	// Alerts receives the operator alerts raised by security events; nil
	// means security events are only recorded and counted.
	Alerts AlertSink
	// SecurityBurst is how many refused envelopes of one kind (bad tag,
	// unknown key epoch, malformed) from one meter within one
	// SecurityAlertWindow raise an operator alert.
	SecurityBurst int
	// SecurityAlertWindow is the window of SecurityBurst, and the period
	// within which repeated security events of one kind of one meter give
	// one alert.
	SecurityAlertWindow time.Duration
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:        64 << 10,
		CommandTTL:          24 * time.Hour,
		MaxRecordsPerUpload: 256,
		MaxCommandsPerReply: 32,
		SinkBatch:           256,
		WakeBatchWindow:     2 * time.Second,
		ConnectBackDeadline: 90 * time.Second,
		WakeBackoff:         []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute},
		WakeRetryEvery:      30 * time.Minute,
		WakeJitter:          0.2,
		SessionIdle:         10 * time.Second,
		DoubtGrace:          time.Hour,
		CheckInInterval:     6 * time.Hour,
		MissingMeterAlarm:   13 * time.Hour,
		PoisonReboots:       3,
		OldEpochWindow:      24 * time.Hour,
		SweepInterval:       time.Minute,
		SweepBatch:          500,
		MaxEventsPerMeter:   100,
		BatteryLowPct:       20,
		TempMinC:            -20,
		TempMaxC:            70,
		HumidityMaxPct:      95,
		TaskQueue:           "ppp",
		SecurityBurst:       5,
		SecurityAlertWindow: 10 * time.Minute,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	setDur(&c.CommandTTL, d.CommandTTL)
	setInt(&c.MaxRecordsPerUpload, d.MaxRecordsPerUpload)
	setInt(&c.MaxCommandsPerReply, d.MaxCommandsPerReply)
	setInt(&c.SinkBatch, d.SinkBatch)
	if c.WakeBatchWindow < 0 {
		c.WakeBatchWindow = 0
	} else if c.WakeBatchWindow == 0 {
		c.WakeBatchWindow = d.WakeBatchWindow
	}
	setDur(&c.ConnectBackDeadline, d.ConnectBackDeadline)
	if len(c.WakeBackoff) == 0 {
		c.WakeBackoff = d.WakeBackoff
	}
	setDur(&c.WakeRetryEvery, d.WakeRetryEvery)
	if c.WakeJitter < 0 || c.WakeJitter >= 1 {
		c.WakeJitter = d.WakeJitter
	}
	setDur(&c.SessionIdle, d.SessionIdle)
	setDur(&c.DoubtGrace, d.DoubtGrace)
	setDur(&c.CheckInInterval, d.CheckInInterval)
	setDur(&c.MissingMeterAlarm, d.MissingMeterAlarm)
	setInt(&c.PoisonReboots, d.PoisonReboots)
	setDur(&c.OldEpochWindow, d.OldEpochWindow)
	setDur(&c.SweepInterval, d.SweepInterval)
	setInt(&c.SweepBatch, d.SweepBatch)
	setInt(&c.MaxEventsPerMeter, d.MaxEventsPerMeter)
	if c.BatteryLowPct <= 0 {
		c.BatteryLowPct = d.BatteryLowPct
	}
	if c.TempMinC == 0 && c.TempMaxC == 0 {
		c.TempMinC, c.TempMaxC = d.TempMinC, d.TempMaxC
	}
	if c.HumidityMaxPct <= 0 {
		c.HumidityMaxPct = d.HumidityMaxPct
	}
	if c.TaskQueue == "" {
		c.TaskQueue = d.TaskQueue
	}
	setInt(&c.SecurityBurst, d.SecurityBurst)
	setDur(&c.SecurityAlertWindow, d.SecurityAlertWindow)
	if c.Waker == nil {
		c.Waker = NoneWaker{}
	}
	if c.Random == nil {
		c.Random = rand.Float64
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
