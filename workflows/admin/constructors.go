package admin

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/nyaruka/phonenumbers"

	"ppprenew/workflows"
)

// Config configures the admin API.
type Config struct {
	// DefaultRegion parses phone numbers written without a country code
	// (an ISO 3166 region code such as HK).
	DefaultRegion string
}

// Deps are what the admin API needs; see API.
type Deps struct {
	// Runner gives the settings, the registry and the conversations.
	Runner *workflows.Runner
	Log    *slog.Logger
}

// NewAPI returns the admin API, or an error naming the first dependency or
// setting that is missing or wrong.
func NewAPI(cfg Config, d Deps) (*API, error) {
	switch {
	case cfg.DefaultRegion == "":
		return nil, errors.New("admin API: no default region")
	case !phonenumbers.GetSupportedRegions()[cfg.DefaultRegion]:
		return nil, fmt.Errorf("admin API: default region %q is not a region code the phone number library knows", cfg.DefaultRegion)
	case d.Runner == nil:
		return nil, errors.New("admin API: no runner")
	case d.Log == nil:
		return nil, errors.New("admin API: no logger")
	}
	return &API{Runner: d.Runner, DefaultRegion: cfg.DefaultRegion, Log: d.Log}, nil
}
