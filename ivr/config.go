// Package ivr is the voice channel: Twilio voice webhooks, keypad menus in
// TwiML built with twilio-go's twiml package, PIN entry, inbound calls
// recognised by caller ID, call status and answering-machine results, and
// the caller that places outbound calls. It only translates: the renewal
// conversation is decided by workflows.
package ivr

import "time"

// Config configures the voice channel.
type Config struct {
	// PublicURL is the externally visible base URL for Twilio callbacks.
	PublicURL string
	// From is the platform's calling number (E.164).
	From string
	// DefaultRegion parses caller IDs written without a country code.
	DefaultRegion string
	// HoldPause is the pause between checks while a charge is processed.
	HoldPause time.Duration
	// MaxHolds bounds how long a caller waits for the charge and the meter.
	MaxHolds int
}

// DefaultConfig returns a 2 s hold pause and about a minute of holding.
func DefaultConfig() Config {
	return Config{DefaultRegion: "HK", HoldPause: 2 * time.Second, MaxHolds: 30}
}
