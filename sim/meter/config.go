package meter

import (
	"net/http"
	"time"
)

// Config configures a Fleet.
type Config struct {
	// ServerURL is the platform's base URL, e.g. http://127.0.0.1:8080; the
	// meters post to ServerURL + /device/v1/exchange.
	ServerURL string
	// AdminURL is the base of the platform's admin API, e.g.
	// http://127.0.0.1:8080/admin/v1; meters register at AdminURL + /meters.
	AdminURL string
	// AdminToken is sent as "Authorization: Bearer <token>" to the admin API.
	AdminToken string
	// PollInterval is how often an idle meter polls; default 500ms.
	PollInterval time.Duration
	// Clock gives the meters' time (payments, paid-until, events); default
	// time.Now.
	Clock func() time.Time
	// HTTPClient makes the meters' requests; default a client with a 10s
	// timeout.
	HTTPClient *http.Client
}

// DefaultConfig returns defaults for a platform on 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		ServerURL:    "http://127.0.0.1:8080",
		AdminURL:     "http://127.0.0.1:8080/admin/v1",
		PollInterval: 500 * time.Millisecond,
		Clock:        time.Now,
		HTTPClient:   &http.Client{Timeout: 10 * time.Second},
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.PollInterval <= 0 {
		c.PollInterval = d.PollInterval
	}
	if c.Clock == nil {
		c.Clock = d.Clock
	}
	if c.HTTPClient == nil {
		c.HTTPClient = d.HTTPClient
	}
	return c
}

// Spec describes a meter to add.
type Spec struct {
	// ID is the meter id (1-64 of A-Z a-z 0-9 . _ -).
	ID string `json:"id"`
	// SIMNumber is the E.164 number of the meter's SIM.
	SIMNumber string `json:"sim_number"`
	// Zone is the operator's zone.
	Zone string `json:"zone"`
	// Location describes where the meter stands.
	Location string `json:"location"`
	// Bays are the bays the meter sells time for.
	Bays []string `json:"bays"`
	// Currency of the payments; default HKD.
	Currency string `json:"currency,omitempty"`
}

// Faults make a meter misbehave. Counts are used up one event at a time;
// flags apply once.
type Faults struct {
	// DropReplies discards the platform's next n replies after the platform
	// processed the message (a connection lost on the way back): the meter
	// sends the same records and acks again.
	DropReplies int `json:"drop_replies"`
	// DropSends loses the next n messages before they reach the platform.
	DropSends int `json:"drop_sends"`
	// LoseAcks loses the acks of the commands in the next reply that carries
	// any (a power cut right after applying them); applied command ids are
	// kept, so a redelivered command is recognised and acked again without
	// being applied twice.
	LoseAcks bool `json:"lose_acks"`
	// TamperNext alters the next payment record after it was hashed.
	TamperNext bool `json:"tamper_next"`
	// SkipNext leaves the next payment record out of its first upload,
	// making a gap in the sequence.
	SkipNext bool `json:"skip_next"`
	// ReuploadAll forgets what the platform accepted, so the next upload
	// sends every record again from seq 1.
	ReuploadAll bool `json:"reupload_all"`
}
