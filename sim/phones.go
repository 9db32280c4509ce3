package sim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Behaviour is how a simulated handset treats the messages sent to it.
type Behaviour string

// Handset behaviours.
const (
	// BehaviourOK: sent, then delivered.
	BehaviourOK Behaviour = "ok"
	// BehaviourUnreachable: sent, then undelivered with 30003.
	BehaviourUnreachable Behaviour = "unreachable"
	// BehaviourLandline: failed with 30006.
	BehaviourLandline Behaviour = "landline"
	// BehaviourFiltered: sent, then undelivered with 30007.
	BehaviourFiltered Behaviour = "filtered"
)

// valid reports whether b is a known behaviour.
func (b Behaviour) valid() bool {
	switch b {
	case BehaviourOK, BehaviourUnreachable, BehaviourLandline, BehaviourFiltered:
		return true
	}
	return false
}

// e164 matches an E.164 number: "+", a non-zero digit, 7 to 14 more digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// phoneState is what the simulator knows about one handset.
type phoneState struct {
	behaviour Behaviour
}

// optPair is a (handset, platform number) pair for opt-out state.
type optPair struct{ phone, platform string }

// Phone describes a simulated handset.
type Phone struct {
	Number       string    `json:"number"`
	Behaviour    Behaviour `json:"behaviour"`
	OptedOutFrom []string  `json:"opted_out_from"`
	// TextsAccepted counts Messages API POSTs that created a message to
	// this number, repeats included.
	TextsAccepted int `json:"texts_accepted"`
}

// PhoneMessage is a message as seen on the handset it was sent to.
type PhoneMessage struct {
	Sid         string    `json:"sid"`
	From        string    `json:"from"`
	Body        string    `json:"body"`
	Status      string    `json:"status"`
	ErrorCode   int       `json:"error_code,omitempty"`
	NumSegments int       `json:"num_segments"`
	Encoding    string    `json:"encoding"`
	DateCreated time.Time `json:"date_created"`
}

// phoneLocked returns the state of a handset, creating it; the caller holds c.mu.
func (c *Carrier) phoneLocked(number string) *phoneState {
	p, ok := c.phones[number]
	if !ok {
		p = &phoneState{behaviour: BehaviourOK}
		c.phones[number] = p
	}
	return p
}

// SetBehaviour sets how the handset at number treats later messages.
func (c *Carrier) SetBehaviour(number string, b Behaviour) error {
	if !e164.MatchString(number) {
		return fmt.Errorf("%w: %q", ErrInvalidNumber, number)
	}
	if !b.valid() {
		return fmt.Errorf("%w: %q", ErrUnknownBehaviour, b)
	}
	c.mu.Lock()
	c.phoneLocked(number).behaviour = b
	c.mu.Unlock()
	c.log.Info("sim phone behaviour", "phone", maskNumber(number), "behaviour", string(b))
	return nil
}

// Phone returns the state of the handset at number.
func (c *Carrier) Phone(number string) (Phone, error) {
	if !e164.MatchString(number) {
		return Phone{}, fmt.Errorf("%w: %q", ErrInvalidNumber, number)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phoneViewLocked(number), nil
}

// Phones returns every handset the simulator has seen, by number.
func (c *Carrier) Phones() []Phone {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for n := range c.phones {
		seen[n] = true
	}
	for p := range c.optedOut {
		seen[p.phone] = true
	}
	for _, m := range c.order {
		if m.Direction == directionInbound {
			seen[m.From] = true
		} else {
			seen[m.To] = true
		}
	}
	out := make([]Phone, 0, len(seen))
	for n := range seen {
		out = append(out, c.phoneViewLocked(n))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

func (c *Carrier) phoneViewLocked(number string) Phone {
	p := Phone{Number: number, Behaviour: BehaviourOK, OptedOutFrom: []string{}, TextsAccepted: c.accepted[number]}
	if st, ok := c.phones[number]; ok {
		p.Behaviour = st.behaviour
	}
	for pair, out := range c.optedOut {
		if out && pair.phone == number {
			p.OptedOutFrom = append(p.OptedOutFrom, pair.platform)
		}
	}
	sort.Strings(p.OptedOutFrom)
	return p
}

// PhoneMessages returns the messages sent to the handset at number, oldest
// first, with their current status. With since set to a message SID, only
// messages created after it are returned.
func (c *Carrier) PhoneMessages(number, since string) []PhoneMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var after int64
	if since != "" {
		if m, ok := c.msgs[since]; ok {
			after = m.seq
		}
	}
	out := []PhoneMessage{}
	for _, m := range c.order {
		if m.Direction == directionInbound || m.To != number || m.seq <= after {
			continue
		}
		body := m.Body
		if m.shown != "" {
			body = m.shown
		}
		out = append(out, PhoneMessage{
			Sid: m.Sid, From: m.From, Body: body, Status: m.Status, ErrorCode: m.ErrorCode,
			NumSegments: m.NumSegments, Encoding: m.Encoding, DateCreated: m.DateCreated,
		})
	}
	return out
}

// Opt-out and opt-in keywords Twilio honours on long codes by default.
var (
	optOutWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true,
		"END": true, "QUIT": true, "REVOKE": true, "OPTOUT": true}
	optInWords = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
	helpWords  = map[string]bool{"HELP": true, "INFO": true}
)

// keywordOf returns the upper-cased keyword when the whole body is one
// (surrounding spaces and trailing punctuation ignored), else "".
func keywordOf(body string) string {
	w := strings.ToUpper(strings.TrimRight(strings.TrimSpace(body), ".!"))
	if optOutWords[w] || optInWords[w] || helpWords[w] {
		return w
	}
	return ""
}

// optOutType is the OptOutType webhook parameter Twilio adds for keywords.
func optOutType(keyword string) string {
	switch {
	case optOutWords[keyword]:
		return "STOP"
	case optInWords[keyword]:
		return "START"
	case helpWords[keyword]:
		return "HELP"
	}
	return ""
}
