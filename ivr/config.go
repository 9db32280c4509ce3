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
	// ReplayWait bounds how long a duplicated webhook waits for the answer
	// of the delivery being answered (also bounded by the request); it stays
	// below Twilio's 15 s webhook timeout. Zero means the default.
	ReplayWait time.Duration
}

// DefaultConfig returns a 2 s hold pause, about a minute of holding and a
// 12 s wait for the answer of a duplicated webhook.
func DefaultConfig() Config {
	return Config{DefaultRegion: "HK", HoldPause: 2 * time.Second, MaxHolds: 30, ReplayWait: defaultReplayWait}
}
