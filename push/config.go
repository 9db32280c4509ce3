package push

import "time"

// Config configures the push sender and the app API.
type Config struct {
	// Titles is the notification title per language; DefaultLanguage's
	// title is used for languages without one.
	Titles map[string]string
	// DefaultLanguage picks the title and action labels of messages in a
	// language without its own.
	DefaultLanguage string
	// DeepLink is the app link of a conversation; "?c=<conversation id>" is
	// appended.
	DeepLink string
	// MenuTemplates are the message templates that offer the menu and so
	// carry the extend / remind / open app buttons (category "RENEWAL").
	MenuTemplates []string
	// QuoteTemplates are the message templates that ask to confirm a quote
	// and so carry the confirm / cancel buttons (category "RENEWAL_QUOTE").
	QuoteTemplates []string
	// SilentTemplates are the message templates sent as silent
	// notifications that only update the app; "dismiss" closes the prompt
	// of a conversation answered on another channel.
	SilentTemplates []string
	// MaxDevices caps the devices one user may register.
	MaxDevices int
	// RatePerMinute is how many app API requests one user may make per
	// minute; more are answered 429.
	RatePerMinute int
	// IdempotencyTTL is how long the response to an Idempotency-Key is kept.
	IdempotencyTTL time.Duration
	// IdempotencyLock is how long a request holds its Idempotency-Key while
	// it runs; a retry arriving meanwhile is answered 409
	// request_in_progress.
	IdempotencyLock time.Duration
	// TokenTTL is how long an app bearer token is valid; zero means until
	// revoked.
	TokenTTL time.Duration
	// IntentTTL is how long send intents (and so effect ids) are remembered.
	IntentTTL time.Duration
}

// DefaultConfig returns the production settings: English, Cantonese and
// Mandarin titles, the ppp:// deep link, ten devices per user and 60 app
// requests per user per minute.
func DefaultConfig() Config {
	return Config{
		Titles: map[string]string{
			"en":    "Parking renewal",
			"zh-HK": "泊車續期",
			"zh-CN": "停车续期",
		},
		DefaultLanguage: "en",
		DeepLink:        "ppp://renew",
		MenuTemplates:   []string{"notice", "menu", "grace_alert", "quote_cancelled", "declined", "insufficient_funds", "payment_unavailable"},
		QuoteTemplates:  []string{"quote", "quote_capped"},
		SilentTemplates: []string{"dismiss"},
		MaxDevices:      10,
		RatePerMinute:   60,
		IdempotencyTTL:  24 * time.Hour,
		IdempotencyLock: time.Minute,
		IntentTTL:       7 * 24 * time.Hour,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Titles == nil {
		c.Titles = d.Titles
	}
	if c.DefaultLanguage == "" {
		c.DefaultLanguage = d.DefaultLanguage
	}
	if c.DeepLink == "" {
		c.DeepLink = d.DeepLink
	}
	if c.MenuTemplates == nil {
		c.MenuTemplates = d.MenuTemplates
	}
	if c.QuoteTemplates == nil {
		c.QuoteTemplates = d.QuoteTemplates
	}
	if c.SilentTemplates == nil {
		c.SilentTemplates = d.SilentTemplates
	}
	if c.MaxDevices <= 0 {
		c.MaxDevices = d.MaxDevices
	}
	if c.RatePerMinute <= 0 {
		c.RatePerMinute = d.RatePerMinute
	}
	if c.IdempotencyTTL <= 0 {
		c.IdempotencyTTL = d.IdempotencyTTL
	}
	if c.IdempotencyLock <= 0 {
		c.IdempotencyLock = d.IdempotencyLock
	}
	if c.IntentTTL <= 0 {
		c.IntentTTL = d.IntentTTL
	}
	return c
}

// What the simulated world's fake FCM and APNs answer to; the server in sim
// mode sends with these.
const (
	SimFCMProject     = "ppp-sim"
	SimFCMAccessToken = "sim-access-token"
	SimAPNsTopic      = "example.ppp.renew"
)
