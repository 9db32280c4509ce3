package meter

import "time"

// maxEvents bounds each meter's event log.
const maxEvents = 500

// Event is one line of a meter's event log.
type Event struct {
	// At is the meter clock's time.
	At time.Time `json:"at"`
	// What happened, e.g. "upload seq 3" or "command c-1 renew bay 12 -> 15:30:00".
	What string `json:"what"`
}

// maskToken keeps the last 4 characters of a card token.
func maskToken(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
