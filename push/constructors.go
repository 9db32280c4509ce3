package push

import (
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// SenderDeps are what the push sender needs; see Sender.
type SenderDeps struct {
	// Providers are the push services by platform; at least one.
	Providers map[Platform]Provider
	// Devices are the users' registered devices.
	Devices *Devices
	// Conversations find the driver's user and give the conversation's
	// meter, bay and expiry.
	Conversations workflows.Conversations
	// Redis keeps send intents.
	Redis   redis.UniversalClient
	Metrics *Metrics
	Now     func() time.Time
	Log     *slog.Logger
}

// NewSender returns the push sender, or an error naming the first
// dependency that is missing.
func NewSender(cfg Config, d SenderDeps) (*Sender, error) {
	switch {
	case len(d.Providers) == 0:
		return nil, errors.New("push sender: no push providers")
	case d.Devices == nil:
		return nil, errors.New("push sender: no device registry")
	case d.Conversations == nil:
		return nil, errors.New("push sender: no conversations")
	case d.Redis == nil:
		return nil, errors.New("push sender: no redis client")
	case d.Metrics == nil:
		return nil, errors.New("push sender: no metrics")
	case d.Now == nil:
		return nil, errors.New("push sender: no clock")
	case d.Log == nil:
		return nil, errors.New("push sender: no logger")
	}
	for p, prov := range d.Providers {
		if prov == nil {
			return nil, errors.New("push sender: no provider for platform " + string(p))
		}
	}
	return &Sender{Config: cfg, Providers: d.Providers, Devices: d.Devices, Conversations: d.Conversations,
		Redis: d.Redis, Metrics: d.Metrics, Now: d.Now, Log: d.Log}, nil
}

// AppAPIDeps are what the app's reply API needs; see AppAPI.
type AppAPIDeps struct {
	// Conversations are the driver's renewal conversations and registration.
	Conversations workflows.Conversations
	// Settings are the operator's languages, lead times and grace period.
	Settings *engine.Settings
	// Devices are the users' registered devices.
	Devices *Devices
	// Redis keeps tokens, rate limits and idempotency records.
	Redis redis.UniversalClient
	Now   func() time.Time
	Log   *slog.Logger
}

// NewAppAPI returns the app's reply API, or an error naming the first
// dependency that is missing.
func NewAppAPI(cfg Config, d AppAPIDeps) (*AppAPI, error) {
	switch {
	case d.Conversations == nil:
		return nil, errors.New("app API: no conversations")
	case d.Settings == nil:
		return nil, errors.New("app API: no settings")
	case d.Devices == nil:
		return nil, errors.New("app API: no device registry")
	case d.Redis == nil:
		return nil, errors.New("app API: no redis client")
	case d.Now == nil:
		return nil, errors.New("app API: no clock")
	case d.Log == nil:
		return nil, errors.New("app API: no logger")
	}
	return &AppAPI{Config: cfg, Conversations: d.Conversations, Settings: d.Settings, Devices: d.Devices, Redis: d.Redis, Now: d.Now, Log: d.Log}, nil
}
