package push_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"ppprenew/push"
	"ppprenew/push/pushtest"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

func TestNewSenderRefusesMissingDependencies(t *testing.T) {
	runner := &workflows.Runner{}
	valid := func() push.SenderDeps {
		rdb := redistest.Idle(t)
		return push.SenderDeps{Providers: map[push.Platform]push.Provider{push.PlatformFCM: &pushtest.Provider{}},
			Devices: push.NewDevices(rdb, 10), Conversations: runner, Redis: rdb, Metrics: push.NewMetrics(),
			Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*push.SenderDeps)
		expect string
	}{
		{"providers", func(d *push.SenderDeps) { d.Providers = nil }, "no push providers"},
		{"nil provider", func(d *push.SenderDeps) { d.Providers[push.PlatformAPNs] = nil }, "no provider for platform " + string(push.PlatformAPNs)},
		{"devices", func(d *push.SenderDeps) { d.Devices = nil }, "no device registry"},
		{"conversations", func(d *push.SenderDeps) { d.Conversations = nil }, "no conversations"},
		{"redis", func(d *push.SenderDeps) { d.Redis = nil }, "no redis client"},
		{"metrics", func(d *push.SenderDeps) { d.Metrics = nil }, "no metrics"},
		{"clock", func(d *push.SenderDeps) { d.Now = nil }, "no clock"},
		{"logger", func(d *push.SenderDeps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			s, err := push.NewSender(push.DefaultConfig(), d)
			if err == nil || s != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "push sender: ") {
				t.Fatalf("NewSender = %v, %v; want nil and an error with %q", s, err, tc.expect)
			}
		})
	}
	d := valid()
	s, err := push.NewSender(push.DefaultConfig(), d)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Providers) != 1 || s.Devices != d.Devices || s.Conversations != runner || s.Redis != d.Redis || s.Metrics != d.Metrics || s.Now == nil || s.Log != d.Log {
		t.Fatalf("NewSender did not keep its dependencies: %+v", s)
	}
}

func TestNewAppAPIRefusesMissingDependencies(t *testing.T) {
	runner, settings := &workflows.Runner{}, &engine.Settings{}
	valid := func() push.AppAPIDeps {
		rdb := redistest.Idle(t)
		return push.AppAPIDeps{Conversations: runner, Settings: settings, Devices: push.NewDevices(rdb, 10), Redis: rdb,
			Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*push.AppAPIDeps)
		expect string
	}{
		{"conversations", func(d *push.AppAPIDeps) { d.Conversations = nil }, "no conversations"},
		{"settings", func(d *push.AppAPIDeps) { d.Settings = nil }, "no settings"},
		{"devices", func(d *push.AppAPIDeps) { d.Devices = nil }, "no device registry"},
		{"redis", func(d *push.AppAPIDeps) { d.Redis = nil }, "no redis client"},
		{"clock", func(d *push.AppAPIDeps) { d.Now = nil }, "no clock"},
		{"logger", func(d *push.AppAPIDeps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			a, err := push.NewAppAPI(push.DefaultConfig(), d)
			if err == nil || a != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "app API: ") {
				t.Fatalf("NewAppAPI = %v, %v; want nil and an error with %q", a, err, tc.expect)
			}
		})
	}
	d := valid()
	a, err := push.NewAppAPI(push.DefaultConfig(), d)
	if err != nil {
		t.Fatal(err)
	}
	if a.Conversations != runner || a.Settings != settings || a.Devices != d.Devices || a.Redis != d.Redis || a.Now == nil || a.Log != d.Log || a.Config.DeepLink != push.DefaultConfig().DeepLink {
		t.Fatalf("NewAppAPI did not keep its dependencies: %+v", a)
	}
}
