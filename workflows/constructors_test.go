package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/payment"
	"ppprenew/workflows/redistest"
)

func TestNewRunnerRefusesMissingDependencies(t *testing.T) {
	settings := &engine.Settings{}
	valid := func() workflows.RunnerDeps {
		rdb := redistest.Idle(t)
		return workflows.RunnerDeps{Settings: settings, Store: workflows.NewStore(rdb), Registry: workflows.NewRegistry(rdb, time.Now),
			Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*workflows.RunnerDeps)
		expect string
	}{
		{"settings", func(d *workflows.RunnerDeps) { d.Settings = nil }, "no settings"},
		{"store", func(d *workflows.RunnerDeps) { d.Store = nil }, "no store"},
		{"registry", func(d *workflows.RunnerDeps) { d.Registry = nil }, "no registry"},
		{"clock", func(d *workflows.RunnerDeps) { d.Now = nil }, "no clock"},
		{"logger", func(d *workflows.RunnerDeps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			r, err := workflows.NewRunner(d)
			if err == nil || r != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "runner: ") {
				t.Fatalf("NewRunner = %v, %v; want nil and an error with %q", r, err, tc.expect)
			}
		})
	}
	d := valid()
	r, err := workflows.NewRunner(d)
	if err != nil {
		t.Fatal(err)
	}
	if r.Settings != settings || r.Store != d.Store || r.Registry != d.Registry || r.Now == nil || r.Log != d.Log {
		t.Fatalf("NewRunner did not keep its dependencies: %+v", r)
	}
}

// nopSender and nopMeters stand in for the channels and the device link.
type nopSender struct{}

func (nopSender) Send(context.Context, workflows.SendRequest) error { return nil }

type nopMeters struct{}

func (nopMeters) Renew(context.Context, engine.MeterEffect) error { return nil }

func TestNewHandlersRefusesMissingDependencies(t *testing.T) {
	runner := &workflows.Runner{}
	valid := func() workflows.HandlerDeps {
		return workflows.HandlerDeps{Runner: runner, Senders: map[string]workflows.Sender{engine.ChannelSMS: nopSender{}},
			Gateway: payment.NewHTTPGateway(payment.DefaultConfig(), nil), Meters: nopMeters{},
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*workflows.HandlerDeps)
		expect string
	}{
		{"runner", func(d *workflows.HandlerDeps) { d.Runner = nil }, "no runner"},
		{"senders", func(d *workflows.HandlerDeps) { d.Senders = nil }, "no senders"},
		{"nil sender", func(d *workflows.HandlerDeps) { d.Senders[engine.ChannelVoice] = nil }, "no sender for channel " + engine.ChannelVoice},
		{"gateway", func(d *workflows.HandlerDeps) { d.Gateway = nil }, "no payment gateway"},
		{"meters", func(d *workflows.HandlerDeps) { d.Meters = nil }, "no meter commander"},
		{"logger", func(d *workflows.HandlerDeps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			h, err := workflows.NewHandlers(d)
			if err == nil || h != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "task handlers: ") {
				t.Fatalf("NewHandlers = %v, %v; want nil and an error with %q", h, err, tc.expect)
			}
		})
	}
	d := valid()
	h, err := workflows.NewHandlers(d)
	if err != nil {
		t.Fatal(err)
	}
	if h.Runner != runner || len(h.Senders) != 1 || h.Gateway != d.Gateway || h.Meters == nil || h.Log != d.Log || h.Metrics != nil {
		t.Fatalf("NewHandlers did not keep its dependencies: %+v", h)
	}
	d.Metrics = workflows.NewUndeliveredMetric()
	if h, err := workflows.NewHandlers(d); err != nil || h.Metrics != d.Metrics {
		t.Fatalf("NewHandlers with metrics = %+v, %v", h, err)
	}
}
