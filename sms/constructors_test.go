package sms_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go"

	"ppprenew/sms"
	"ppprenew/workflows"
	"ppprenew/workflows/redistest"
)

func TestNewWebhooksRefusesMissingDependencies(t *testing.T) {
	runner := &workflows.Runner{}
	valid := func() sms.WebhookDeps {
		return sms.WebhookDeps{Texts: runner, Redis: redistest.Idle(t), Metrics: sms.NewMetrics(), Queue: workflows.NewOutbox(redistest.Idle(t)),
			Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*sms.WebhookDeps)
		expect string
	}{
		{"texts", func(d *sms.WebhookDeps) { d.Texts = nil }, "no conversations"},
		{"redis", func(d *sms.WebhookDeps) { d.Redis = nil }, "no redis client"},
		{"metrics", func(d *sms.WebhookDeps) { d.Metrics = nil }, "no metrics"},
		{"queue", func(d *sms.WebhookDeps) { d.Queue = nil }, "no effect queue"},
		{"short dedupe", func(d *sms.WebhookDeps) { d.DedupeTTL = time.Hour }, "de-duplication window"},
		{"clock", func(d *sms.WebhookDeps) { d.Now = nil }, "no clock"},
		{"logger", func(d *sms.WebhookDeps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			w, err := sms.NewWebhooks(d)
			if err == nil || w != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "sms webhooks: ") {
				t.Fatalf("NewWebhooks = %v, %v; want nil and an error with %q", w, err, tc.expect)
			}
		})
	}
	w, err := sms.NewWebhooks(valid())
	if err != nil {
		t.Fatal(err)
	}
	if w.DedupeTTL != sms.DefaultDedupeTTL || w.Texts != runner || w.Redis == nil || w.Metrics == nil || w.Queue == nil || w.Now == nil || w.Log == nil {
		t.Fatalf("NewWebhooks did not keep its dependencies: %+v", w)
	}
	d := valid()
	d.DedupeTTL = 72 * time.Hour
	if w, err := sms.NewWebhooks(d); err != nil || w.DedupeTTL != 72*time.Hour {
		t.Fatalf("NewWebhooks with a 72 h window = %+v, %v", w, err)
	}
}

func TestNewSenderRefusesMissingDependencies(t *testing.T) {
	client := twilio.NewRestClientWithParams(twilio.ClientParams{Username: "ACtest", Password: "secret"})
	validCfg := func() sms.Config {
		c := sms.DefaultConfig()
		c.From, c.PublicURL = "+85258001000", "https://ppp.example"
		return c
	}
	valid := func() sms.SenderDeps {
		return sms.SenderDeps{Client: client, Redis: redistest.Idle(t), Registry: &workflows.Registry{}, Metrics: sms.NewMetrics(),
			Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	cases := []struct {
		name   string
		change func(*sms.Config, *sms.SenderDeps)
		expect string
	}{
		{"from", func(c *sms.Config, _ *sms.SenderDeps) { c.From = "" }, "no sending number"},
		{"public url", func(c *sms.Config, _ *sms.SenderDeps) { c.PublicURL = "" }, "no public URL"},
		{"client", func(_ *sms.Config, d *sms.SenderDeps) { d.Client = nil }, "no carrier client"},
		{"redis", func(_ *sms.Config, d *sms.SenderDeps) { d.Redis = nil }, "no redis client"},
		{"registry", func(_ *sms.Config, d *sms.SenderDeps) { d.Registry = nil }, "no opt-out registry"},
		{"metrics", func(_ *sms.Config, d *sms.SenderDeps) { d.Metrics = nil }, "no metrics"},
		{"clock", func(_ *sms.Config, d *sms.SenderDeps) { d.Now = nil }, "no clock"},
		{"logger", func(_ *sms.Config, d *sms.SenderDeps) { d.Log = nil }, "no logger"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, d := validCfg(), valid()
			tc.change(&c, &d)
			s, err := sms.NewSender(c, d)
			if err == nil || s != nil || !strings.Contains(err.Error(), tc.expect) || !strings.HasPrefix(err.Error(), "sms sender: ") {
				t.Fatalf("NewSender = %v, %v; want nil and an error with %q", s, err, tc.expect)
			}
		})
	}
	s, err := sms.NewSender(validCfg(), valid())
	if err != nil {
		t.Fatal(err)
	}
	if s.Config != validCfg() || s.Client != client || s.Redis == nil || s.Registry == nil || s.Metrics == nil || s.Now == nil || s.Log == nil {
		t.Fatalf("NewSender did not keep its dependencies: %+v", s)
	}
}
