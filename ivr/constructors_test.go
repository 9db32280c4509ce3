package ivr_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go"

	"ppprenew/ivr"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

func TestNewWebhooksRefusesMissingDependencies(t *testing.T) {
	cfg := ivr.DefaultConfig()
	cfg.PublicURL, cfg.From = "https://ppp.example", "+85258001000"
	runner, settings := &workflows.Runner{}, &engine.Settings{}
	valid := func() ivr.WebhookDeps {
		return ivr.WebhookDeps{Conversations: runner, Settings: settings, Redis: redistest.Idle(t), Metrics: ivr.NewMetrics(),
			Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*ivr.WebhookDeps)
		expect string
	}{
		{"conversations", func(d *ivr.WebhookDeps) { d.Conversations = nil }, "no conversations"},
		{"settings", func(d *ivr.WebhookDeps) { d.Settings = nil }, "no settings"},
		{"redis", func(d *ivr.WebhookDeps) { d.Redis = nil }, "no redis client"},
		{"metrics", func(d *ivr.WebhookDeps) { d.Metrics = nil }, "no metrics"},
		{"clock", func(d *ivr.WebhookDeps) { d.Now = nil }, "no clock"},
		{"logger", func(d *ivr.WebhookDeps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			w, err := ivr.NewWebhooks(cfg, d)
			if err == nil || w != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "voice webhooks: ") {
				t.Fatalf("NewWebhooks = %v, %v; want nil and an error with %q", w, err, tc.expect)
			}
		})
	}
	w, err := ivr.NewWebhooks(cfg, valid())
	if err != nil {
		t.Fatal(err)
	}
	if w.Config != cfg || w.Conversations != runner || w.Settings != settings || w.Redis == nil || w.Metrics == nil || w.Now == nil || w.Log == nil {
		t.Fatalf("NewWebhooks did not keep its dependencies: %+v", w)
	}
}

func TestNewCallerRefusesMissingDependencies(t *testing.T) {
	client := twilio.NewRestClientWithParams(twilio.ClientParams{Username: "ACtest", Password: "secret"})
	settings := &engine.Settings{}
	validCfg := func() ivr.Config {
		c := ivr.DefaultConfig()
		c.PublicURL, c.From = "https://ppp.example", "+85258001000"
		return c
	}
	valid := func() ivr.CallerDeps {
		return ivr.CallerDeps{Settings: settings, Client: client, Redis: redistest.Idle(t), Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*ivr.Config, *ivr.CallerDeps)
		expect string
	}{
		{"from", func(c *ivr.Config, _ *ivr.CallerDeps) { c.From = "" }, "no calling number"},
		{"public url", func(c *ivr.Config, _ *ivr.CallerDeps) { c.PublicURL = "" }, "no public URL"},
		{"settings", func(_ *ivr.Config, d *ivr.CallerDeps) { d.Settings = nil }, "no settings"},
		{"client", func(_ *ivr.Config, d *ivr.CallerDeps) { d.Client = nil }, "no carrier client"},
		{"redis", func(_ *ivr.Config, d *ivr.CallerDeps) { d.Redis = nil }, "no redis client"},
		{"clock", func(_ *ivr.Config, d *ivr.CallerDeps) { d.Now = nil }, "no clock"},
		{"logger", func(_ *ivr.Config, d *ivr.CallerDeps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, d := validCfg(), valid()
			tc.change(&c, &d)
			cl, err := ivr.NewCaller(c, d)
			if err == nil || cl != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "voice caller: ") {
				t.Fatalf("NewCaller = %v, %v; want nil and an error with %q", cl, err, tc.expect)
			}
		})
	}
	cl, err := ivr.NewCaller(validCfg(), valid())
	if err != nil {
		t.Fatal(err)
	}
	if cl.Config != validCfg() || cl.Settings != settings || cl.Client != client || cl.Redis == nil || cl.Now == nil || cl.Log == nil {
		t.Fatalf("NewCaller did not keep its dependencies: %+v", cl)
	}
}
