package sim

import (
	"log/slog"
	"time"
)

// Config configures the simulated carrier and the simulated payment gateway.
type Config struct {
	// AccountSID is the Twilio account SID the REST API accepts (basic-auth
	// user and the {AccountSid} path segment) and puts in every callback.
	AccountSID string
	// AuthToken is the basic-auth password the REST API accepts and the key
	// every X-Twilio-Signature is computed with.
	AuthToken string
	// PlatformNumbers are the E.164 numbers owned by the platform account;
	// outbound messages must come from one of them and inbound texts to them
	// are forwarded to SMSWebhookURL.
	PlatformNumbers []string
	// SMSWebhookURL is where inbound SMS to a platform number is POSTed, e.g.
	// the server's PPP_PUBLIC_URL + "/twilio/sms".
	SMSWebhookURL string
	// VoiceWebhookURL is where an inbound call to a platform number is POSTed,
	// e.g. the server's PPP_PUBLIC_URL + "/twilio/voice". Like SMSWebhookURL
	// it is not filled from DefaultConfig when empty.
	VoiceWebhookURL string
	// VoiceStatusCallbackURL receives the "completed" status callback of
	// inbound calls, as a phone number's status callback does; none when
	// empty.
	VoiceStatusCallbackURL string
	// VoiceTick is the real time one simulated ring, and one simulated
	// second of <Pause>, <Gather> timeout or caller delay, takes (default
	// 5ms).
	VoiceTick time.Duration
	// VoiceMaxDocuments caps the TwiML documents fetched during one call, so
	// a redirect loop ends (default 50).
	VoiceMaxDocuments int
	// GatewayAPIKey is the bearer key the simulated payment gateway accepts.
	GatewayAPIKey string
	// Clock is the simulated time source (time.Now when nil). Message dates,
	// validity periods and the queue_delay fault follow it.
	Clock func() time.Time
	// StatusDelay is the pause before each status change of an outbound
	// message (default 20ms).
	StatusDelay time.Duration
	// FaultDelay is how long the messages_timeout fault holds the HTTP answer
	// when the fault carries no delay_ms (default 15s).
	FaultDelay time.Duration
	// Logger receives one line per event (slog.Default() when nil).
	Logger *slog.Logger
}

// DefaultConfig returns a Config for a local simulator: fixed test
// credentials, one Hong Kong platform number and a webhook on
// 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		AccountSID:        "AC00000000000000000000000000051a1",
		AuthToken:         "5157a7e0000000000000000000000000",
		PlatformNumbers:   []string{"+85258001000"},
		SMSWebhookURL:     "http://127.0.0.1:8080/twilio/sms",
		VoiceWebhookURL:   "http://127.0.0.1:8080/twilio/voice",
		VoiceTick:         5 * time.Millisecond,
		VoiceMaxDocuments: 50,
		GatewayAPIKey:     "sk_sim_local",
		Clock:             time.Now,
		StatusDelay:       20 * time.Millisecond,
		FaultDelay:        15 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.AccountSID == "" {
		c.AccountSID = d.AccountSID
	}
	if c.AuthToken == "" {
		c.AuthToken = d.AuthToken
	}
	if len(c.PlatformNumbers) == 0 {
		c.PlatformNumbers = d.PlatformNumbers
	}
	if c.GatewayAPIKey == "" {
		c.GatewayAPIKey = d.GatewayAPIKey
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.StatusDelay <= 0 {
		c.StatusDelay = d.StatusDelay
	}
	if c.FaultDelay <= 0 {
		c.FaultDelay = d.FaultDelay
	}
	if c.VoiceTick <= 0 {
		c.VoiceTick = d.VoiceTick
	}
	if c.VoiceMaxDocuments <= 0 {
		c.VoiceMaxDocuments = d.VoiceMaxDocuments
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
