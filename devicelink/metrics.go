package devicelink

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the package's Prometheus counters; a nil *metrics records
// nothing.
type metrics struct {
	rejected  *prometheus.CounterVec
	exchanges *prometheus.CounterVec
	commands  *prometheus.CounterVec
	records   prometheus.Counter
	sinkErrs  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ppp_devicelink_envelopes_rejected_total",
			Help: "Meter envelopes refused, by reason.",
		}, []string{"reason"}),
		exchanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ppp_devicelink_exchanges_total",
			Help: "Authenticated meter exchanges, by message type.",
		}, []string{"type"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ppp_devicelink_command_transitions_total",
			Help: "Command state transitions, by new state.",
		}, []string{"state"}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ppp_devicelink_records_stored_total",
			Help: "Transaction records newly stored.",
		}),
		sinkErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ppp_devicelink_sink_errors_total",
			Help: "Sink calls that failed and will be retried, by kind.",
		}, []string{"kind"}),
	}
	m.rejected = register(reg, m.rejected)
	m.exchanges = register(reg, m.exchanges)
	m.commands = register(reg, m.commands)
	m.records = register(reg, m.records)
	m.sinkErrs = register(reg, m.sinkErrs)
	return m
}

// register registers c, or returns the collector already registered under
// the same name (several services may share one registerer).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("devicelink: register metric: " + err.Error())
	}
	return c
}

func (m *metrics) reject(reason string) {
	if m != nil {
		m.rejected.WithLabelValues(reason).Inc()
	}
}

func (m *metrics) exchange(typ string) {
	if m != nil {
		m.exchanges.WithLabelValues(typ).Inc()
	}
}

func (m *metrics) command(s CommandState) {
	if m != nil {
		m.commands.WithLabelValues(string(s)).Inc()
	}
}

func (m *metrics) stored(n int) {
	if m != nil {
		m.records.Add(float64(n))
	}
}

func (m *metrics) sinkError(kind string) {
	if m != nil {
		m.sinkErrs.WithLabelValues(kind).Inc()
	}
}
