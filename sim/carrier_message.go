package sim

import "time"

// Message directions, as Twilio names them.
const (
	directionOutbound = "outbound-api"
	directionOutReply = "outbound-reply"
	directionInbound  = "inbound"
)

// Message statuses the simulator produces.
const (
	StatusQueued      = "queued"
	StatusSent        = "sent"
	StatusDelivered   = "delivered"
	StatusUndelivered = "undelivered"
	StatusFailed      = "failed"
	StatusReceived    = "received"
)

// Twilio error codes the simulator produces in message status.
const (
	// ErrorUnreachable is 30003, unreachable destination handset.
	ErrorUnreachable = 30003
	// ErrorLandline is 30006, landline or unreachable carrier.
	ErrorLandline = 30006
	// ErrorFiltered is 30007, message filtered by the carrier.
	ErrorFiltered = 30007
	// ErrorValidityExpired is 30036, "Validity Period Expired": Twilio fails
	// a message that stayed queued longer than its ValidityPeriod
	// (https://www.twilio.com/docs/api/errors/30036).
	ErrorValidityExpired = 30036
)

// errorMessages are Twilio's short descriptions of message error codes.
var errorMessages = map[int]string{
	ErrorUnreachable:     "Unreachable destination handset",
	ErrorLandline:        "Landline or unreachable carrier",
	ErrorFiltered:        "Message filtered",
	ErrorValidityExpired: "Validity Period Expired",
}

// Message is the simulator's record of one message, outbound or inbound.
type Message struct {
	Sid            string            `json:"sid"`
	AccountSid     string            `json:"account_sid"`
	Direction      string            `json:"direction"`
	From           string            `json:"from"`
	To             string            `json:"to"`
	Body           string            `json:"body"`
	Status         string            `json:"status"`
	ErrorCode      int               `json:"error_code,omitempty"`
	NumSegments    int               `json:"num_segments"`
	Encoding       string            `json:"encoding"`
	DateCreated    time.Time         `json:"date_created"`
	DateUpdated    time.Time         `json:"date_updated"`
	DateSent       *time.Time        `json:"date_sent,omitempty"`
	StatusCallback string            `json:"status_callback,omitempty"`
	ValidityPeriod int               `json:"validity_period,omitempty"`
	History        []StatusChange    `json:"history"`
	Callbacks      []CallbackAttempt `json:"callbacks"`

	seq int64
	// shown is the text the handset received, kept when the record's
	// body is redacted; deleted marks a record removed from the account
	// (the handset still has the text).
	shown   string
	deleted bool
}

// StatusChange is one step of a message's status history.
type StatusChange struct {
	Status    string    `json:"status"`
	ErrorCode int       `json:"error_code,omitempty"`
	At        time.Time `json:"at"`
}

// CallbackAttempt is one status callback POST the carrier made.
type CallbackAttempt struct {
	Status     string    `json:"status"`
	HTTPStatus int       `json:"http_status"`
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
}

// clone returns a deep copy safe to hand out of the lock.
func (m *Message) clone() Message {
	cp := *m
	cp.History = append([]StatusChange{}, m.History...)
	cp.Callbacks = append([]CallbackAttempt{}, m.Callbacks...)
	if m.DateSent != nil {
		t := *m.DateSent
		cp.DateSent = &t
	}
	return cp
}

// setStatus records a status change; the caller holds c.mu.
func (m *Message) setStatus(status string, code int, at time.Time) {
	m.Status, m.ErrorCode, m.DateUpdated = status, code, at
	if status == StatusSent || (status == StatusReceived && m.DateSent == nil) {
		t := at
		m.DateSent = &t
	}
	m.History = append(m.History, StatusChange{Status: status, ErrorCode: code, At: at})
}

// Messages returns every outbound message with its status history, oldest
// first.
func (c *Carrier) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []Message{}
	for _, m := range c.order {
		if m.Direction != directionInbound {
			out = append(out, m.clone())
		}
	}
	return out
}

// Message returns one message by SID.
func (c *Carrier) Message(sid string) (Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.msgs[sid]
	if !ok {
		return Message{}, ErrNotFound
	}
	return m.clone(), nil
}

// addMessage stores a new message; the caller holds c.mu.
func (c *Carrier) addMessage(m *Message) {
	c.seq++
	m.seq = c.seq
	c.msgs[m.Sid] = m
	c.order = append(c.order, m)
}
