package sms

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go"

	"ppprenew/workflows"
)

// DefaultDedupeTTL is how long NewWebhooks remembers an inbound MessageSid
// when WebhookDeps.DedupeTTL is zero.
const DefaultDedupeTTL = 48 * time.Hour

// minDedupeTTL is the shortest de-duplication window accepted: Twilio
// retries and console replays arrive within a day.
const minDedupeTTL = 24 * time.Hour

// WebhookDeps are what the messaging webhooks need; see Webhooks.
type WebhookDeps struct {
	// Texts is the conversation as the SMS channel sees it.
	Texts workflows.Texts
	// Redis keeps inbound de-duplication and send records.
	Redis   redis.UniversalClient
	Metrics *Metrics
	// Queue carries out extra sends (the one retry of an unreachable handset).
	Queue workflows.EffectQueue
	// DedupeTTL is how long an inbound MessageSid is remembered: at least
	// 24 h; zero means DefaultDedupeTTL.
	DedupeTTL time.Duration
	Now       func() time.Time
	Log       *slog.Logger
}

// NewWebhooks returns the messaging webhooks, or an error naming the first
// dependency that is missing.
func NewWebhooks(d WebhookDeps) (*Webhooks, error) {
	if d.DedupeTTL == 0 {
		d.DedupeTTL = DefaultDedupeTTL
	}
	switch {
	case d.Texts == nil:
		return nil, errors.New("sms webhooks: no conversations (Texts)")
	case d.Redis == nil:
		return nil, errors.New("sms webhooks: no redis client")
	case d.Metrics == nil:
		return nil, errors.New("sms webhooks: no metrics")
	case d.Queue == nil:
		return nil, errors.New("sms webhooks: no effect queue")
	case d.DedupeTTL < minDedupeTTL:
		return nil, fmt.Errorf("sms webhooks: de-duplication window %s is shorter than %s", d.DedupeTTL, minDedupeTTL)
	case d.Now == nil:
		return nil, errors.New("sms webhooks: no clock")
	case d.Log == nil:
		return nil, errors.New("sms webhooks: no logger")
	}
	return &Webhooks{Texts: d.Texts, Redis: d.Redis, Metrics: d.Metrics, Queue: d.Queue, DedupeTTL: d.DedupeTTL, Now: d.Now, Log: d.Log}, nil
}

// SenderDeps are what the SMS sender needs; see Sender.
type SenderDeps struct {
	// Client is the carrier's REST client.
	Client *twilio.RestClient
	// Redis keeps send intents and the per-number pacing.
	Redis redis.UniversalClient
	// Registry tells which phones sent STOP.
	Registry OptOuts
	Metrics  *Metrics
	Now      func() time.Time
	Log      *slog.Logger
}

// NewSender returns the SMS sender, or an error naming the first dependency
// or required setting that is missing.
func NewSender(cfg Config, d SenderDeps) (*Sender, error) {
	switch {
	case cfg.From == "":
		return nil, errors.New("sms sender: no sending number (From)")
	case cfg.PublicURL == "":
		return nil, errors.New("sms sender: no public URL for status callbacks")
	case d.Client == nil:
		return nil, errors.New("sms sender: no carrier client")
	case d.Redis == nil:
		return nil, errors.New("sms sender: no redis client")
	case d.Registry == nil:
		return nil, errors.New("sms sender: no opt-out registry")
	case d.Metrics == nil:
		return nil, errors.New("sms sender: no metrics")
	case d.Now == nil:
		return nil, errors.New("sms sender: no clock")
	case d.Log == nil:
		return nil, errors.New("sms sender: no logger")
	}
	return &Sender{Config: cfg, Client: d.Client, Redis: d.Redis, Registry: d.Registry, Metrics: d.Metrics, Now: d.Now, Log: d.Log}, nil
}
