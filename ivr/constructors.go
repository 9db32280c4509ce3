package ivr

import (
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twilio/twilio-go"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// WebhookDeps are what the voice webhooks need; see Webhooks.
type WebhookDeps struct {
	// Conversations are the renewal conversations the calls are about.
	Conversations workflows.Conversations
	// Settings are the operator's voice settings, prompts and languages.
	Settings *engine.Settings
	// Redis keeps the calls between webhooks (see session.go).
	Redis   redis.UniversalClient
	Metrics *Metrics
	Now     func() time.Time
	Log     *slog.Logger
}

// NewWebhooks returns the voice webhooks, or an error naming the first
// dependency that is missing.
func NewWebhooks(cfg Config, d WebhookDeps) (*Webhooks, error) {
	switch {
	case d.Conversations == nil:
		return nil, errors.New("voice webhooks: no conversations")
	case d.Settings == nil:
		return nil, errors.New("voice webhooks: no settings")
	case d.Redis == nil:
		return nil, errors.New("voice webhooks: no redis client")
	case d.Metrics == nil:
		return nil, errors.New("voice webhooks: no metrics")
	case d.Now == nil:
		return nil, errors.New("voice webhooks: no clock")
	case d.Log == nil:
		return nil, errors.New("voice webhooks: no logger")
	}
	return &Webhooks{Config: cfg, Conversations: d.Conversations, Settings: d.Settings, Redis: d.Redis, Metrics: d.Metrics, Now: d.Now, Log: d.Log}, nil
}

// CallerDeps are what the caller needs; see Caller.
type CallerDeps struct {
	// Settings are the operator's voice settings (machine detection, ring
	// timeout).
	Settings *engine.Settings
	// Client is the carrier's REST client.
	Client *twilio.RestClient
	// Redis keeps call intents.
	Redis redis.UniversalClient
	Now   func() time.Time
	Log   *slog.Logger
}

// NewCaller returns the caller that places outbound calls, or an error
// naming the first dependency or required setting that is missing.
func NewCaller(cfg Config, d CallerDeps) (*Caller, error) {
	switch {
	case cfg.From == "":
		return nil, errors.New("voice caller: no calling number (From)")
	case cfg.PublicURL == "":
		return nil, errors.New("voice caller: no public URL for call webhooks")
	case d.Settings == nil:
		return nil, errors.New("voice caller: no settings")
	case d.Client == nil:
		return nil, errors.New("voice caller: no carrier client")
	case d.Redis == nil:
		return nil, errors.New("voice caller: no redis client")
	case d.Now == nil:
		return nil, errors.New("voice caller: no clock")
	case d.Log == nil:
		return nil, errors.New("voice caller: no logger")
	}
	return &Caller{Config: cfg, Settings: d.Settings, Client: d.Client, Redis: d.Redis, Now: d.Now, Log: d.Log}, nil
}
