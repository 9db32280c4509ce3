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
	secEv     *prometheus.CounterVec
	statusEv  *prometheus.CounterVec
	wakeCalls *prometheus.CounterVec
	wakeStat  *prometheus.CounterVec
	connBack  *prometheus.CounterVec
	rotations prometheus.Counter
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
	m.secEv = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ppp_devicelink_security_events_total",
		Help: "Security events recorded against meters, by kind.",
	}, []string{"kind"})
	m.statusEv = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ppp_devicelink_status_events_total",
		Help: "Meter status events (flags raised or cleared, reboots, missing), by kind.",
	}, []string{"kind"})
	m.wakeCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ppp_devicelink_wake_calls_total",
		Help: "Wake calls asked of the carrier, by result (placed, error).",
	}, []string{"result"})
	m.wakeStat = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ppp_devicelink_wake_call_statuses_total",
		Help: "Wake call statuses reported by the carrier (busy is the expected refusal).",
	}, []string{"status"})
	m.connBack = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ppp_devicelink_wake_connect_backs_total",
		Help: "Wake attempts by connect-back result (connected, timeout).",
	}, []string{"result"})
	m.rotations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ppp_devicelink_key_rotations_total",
		Help: "Meter key rotations completed.",
	})
	m.secEv = register(reg, m.secEv)
	m.statusEv = register(reg, m.statusEv)
	m.wakeCalls = register(reg, m.wakeCalls)
	m.wakeStat = register(reg, m.wakeStat)
	m.connBack = register(reg, m.connBack)
	m.rotations = register(reg, m.rotations)
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

func (m *metrics) security(kind string) {
	if m != nil {
		m.secEv.WithLabelValues(kind).Inc()
	}
}

func (m *metrics) status(kind string) {
	if m != nil {
		m.statusEv.WithLabelValues(kind).Inc()
	}
}

func (m *metrics) wakeCall(result string) {
	if m != nil {
		m.wakeCalls.WithLabelValues(result).Inc()
	}
}

func (m *metrics) wakeStatus(status string) {
	if m != nil {
		m.wakeStat.WithLabelValues(status).Inc()
	}
}

func (m *metrics) connectBack(result string) {
	if m != nil {
		m.connBack.WithLabelValues(result).Inc()
	}
}

func (m *metrics) keyRotated() {
	if m != nil {
		m.rotations.Inc()
	}
}
