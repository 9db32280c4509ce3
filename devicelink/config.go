package devicelink

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes the device link service.
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
	// Registerer receives the package's Prometheus metrics; nil means no
	// metrics.
	Registerer prometheus.Registerer
	// Logger is the structured logger; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:        64 << 10,
		CommandTTL:          24 * time.Hour,
		MaxRecordsPerUpload: 256,
		MaxCommandsPerReply: 32,
		SinkBatch:           256,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.CommandTTL <= 0 {
		c.CommandTTL = d.CommandTTL
	}
	if c.MaxRecordsPerUpload <= 0 {
		c.MaxRecordsPerUpload = d.MaxRecordsPerUpload
	}
	if c.MaxCommandsPerReply <= 0 {
		c.MaxCommandsPerReply = d.MaxCommandsPerReply
	}
	if c.SinkBatch <= 0 {
		c.SinkBatch = d.SinkBatch
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
