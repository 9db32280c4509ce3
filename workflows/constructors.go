package workflows

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ppprenew/workflows/engine"
	"ppprenew/workflows/payment"
)

// RunnerDeps are what the runner needs; see Runner.
type RunnerDeps struct {
	// Settings are the operator's flow, texts and tariffs.
	Settings *engine.Settings
	// Store keeps the conversations and their outbox.
	Store *Store
	// Registry keeps users, cards, meters, blacklists and alerts.
	Registry *Registry
	Now      func() time.Time
	Log      *slog.Logger
}

// NewRunner returns the runner, or an error naming the first dependency
// that is missing.
func NewRunner(d RunnerDeps) (*Runner, error) {
	switch {
	case d.Settings == nil:
		return nil, errors.New("runner: no settings")
	case d.Store == nil:
		return nil, errors.New("runner: no store")
	case d.Registry == nil:
		return nil, errors.New("runner: no registry")
	case d.Now == nil:
		return nil, errors.New("runner: no clock")
	case d.Log == nil:
		return nil, errors.New("runner: no logger")
	}
	return &Runner{Settings: d.Settings, Store: d.Store, Registry: d.Registry, Now: d.Now, Log: d.Log}, nil
}

// HandlerDeps are what the task handlers need; see Handlers.
type HandlerDeps struct {
	// Runner takes the outcomes back to their conversations.
	Runner *Runner
	// Senders carry out sends, by channel; at least one.
	Senders map[string]Sender
	// Gateway charges cards.
	Gateway payment.Gateway
	// Meters carry renewals down to the meters.
	Meters MeterCommander
	Log    *slog.Logger
	// Metrics counts messages that ended undelivered (see
	// NewUndeliveredMetric); optional.
	Metrics *prometheus.CounterVec
}

// NewHandlers returns the task handlers, or an error naming the first
// dependency that is missing.
func NewHandlers(d HandlerDeps) (*Handlers, error) {
	switch {
	case d.Runner == nil:
		return nil, errors.New("task handlers: no runner")
	case len(d.Senders) == 0:
		return nil, errors.New("task handlers: no senders")
	case d.Gateway == nil:
		return nil, errors.New("task handlers: no payment gateway")
	case d.Meters == nil:
		return nil, errors.New("task handlers: no meter commander")
	case d.Log == nil:
		return nil, errors.New("task handlers: no logger")
	}
	for ch, s := range d.Senders {
		if s == nil {
			return nil, errors.New("task handlers: no sender for channel " + ch)
		}
	}
	return &Handlers{Runner: d.Runner, Senders: d.Senders, Gateway: d.Gateway, Meters: d.Meters, Log: d.Log, Metrics: d.Metrics}, nil
}
