package sim

// countAcceptedLocked records a Messages API POST that created a message to
// number; the caller holds c.mu. Replies written in TwiML are not counted:
// only what the platform asked the carrier to send is.
func (c *Carrier) countAcceptedLocked(number string) {
	if c.accepted == nil {
		c.accepted = map[string]int{}
	}
	c.accepted[number]++
}

// TextsAccepted is how many Messages API POSTs created a message to number.
// Every accepted POST counts, also when the handset never shows the message
// (a timeout fault, an unreachable phone), so a repeated send is visible.
func (c *Carrier) TextsAccepted(number string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accepted[number]
}
