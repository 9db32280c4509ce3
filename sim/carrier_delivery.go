package sim

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// deliveryPlan carries the faults that apply to one outbound message.
type deliveryPlan struct {
	hold      time.Duration // queue_delay: stay queued until the clock passes created+hold
	duplicate bool          // status_duplicate: post every callback twice
	reverse   bool          // status_out_of_order: post callbacks in reverse order
}

// step is one status change of an outbound message.
type step struct {
	status string
	code   int
}

// defaultValidity is Twilio's default ValidityPeriod (10 hours).
const defaultValidity = 36000 * time.Second

// holdPoll is how often a held message re-reads the simulated clock.
const holdPoll = 5 * time.Millisecond

// deliver runs an outbound message through its statuses and posts the
// status callbacks.
func (c *Carrier) deliver(sid string, plan deliveryPlan) {
	m, err := c.Message(sid)
	if err != nil {
		return
	}
	if plan.hold > 0 {
		release := m.DateCreated.Add(plan.hold)
		for c.now().Before(release) {
			if !c.pause(holdPoll) {
				return
			}
		}
	}
	if !c.pause(c.cfg.StatusDelay) {
		return
	}
	steps := c.outcome(m)
	var posted []Message
	for i, s := range steps {
		if i > 0 && !c.pause(c.cfg.StatusDelay) {
			return
		}
		snap, ok := c.applyStatus(sid, s)
		if !ok {
			return
		}
		if plan.reverse {
			posted = append(posted, snap)
			continue
		}
		c.postStatus(snap, plan.duplicate)
	}
	for i := len(posted) - 1; i >= 0; i-- {
		if i < len(posted)-1 && !c.pause(c.cfg.StatusDelay) {
			return
		}
		c.postStatus(posted[i], plan.duplicate)
	}
}

// outcome decides the statuses of a message leaving the queue now: expired
// validity fails it; otherwise the handset's behaviour decides.
func (c *Carrier) outcome(m Message) []step {
	validity := defaultValidity
	if m.ValidityPeriod > 0 {
		validity = time.Duration(m.ValidityPeriod) * time.Second
	}
	if c.now().Sub(m.DateCreated) > validity {
		return []step{{StatusFailed, ErrorValidityExpired}}
	}
	c.mu.Lock()
	b := c.phoneLocked(m.To).behaviour
	c.mu.Unlock()
	switch b {
	case BehaviourUnreachable:
		return []step{{StatusSent, 0}, {StatusUndelivered, ErrorUnreachable}}
	case BehaviourLandline:
		return []step{{StatusFailed, ErrorLandline}}
	case BehaviourFiltered:
		return []step{{StatusSent, 0}, {StatusUndelivered, ErrorFiltered}}
	default:
		return []step{{StatusSent, 0}, {StatusDelivered, 0}}
	}
}

// applyStatus records a status change and returns the message after it.
func (c *Carrier) applyStatus(sid string, s step) (Message, bool) {
	c.mu.Lock()
	m, ok := c.msgs[sid]
	if !ok {
		c.mu.Unlock()
		return Message{}, false
	}
	m.setStatus(s.status, s.code, c.now())
	snap := m.clone()
	c.mu.Unlock()
	c.log.Info("sim sms status", "sid", sid, "to", maskNumber(snap.To), "status", s.status, "error_code", s.code)
	return snap, true
}

// statusForm builds the status callback parameters Twilio posts.
func (c *Carrier) statusForm(m Message) url.Values {
	f := url.Values{
		"MessageSid":    {m.Sid},
		"SmsSid":        {m.Sid},
		"MessageStatus": {m.Status},
		"SmsStatus":     {m.Status},
		"AccountSid":    {m.AccountSid},
		"From":          {m.From},
		"To":            {m.To},
		"ApiVersion":    {twilioAPIVersion},
	}
	if m.ErrorCode != 0 {
		f.Set("ErrorCode", strconv.Itoa(m.ErrorCode))
	}
	return f
}

// postStatus posts the callback for the message's current status (twice
// when duplicate) and records each attempt.
func (c *Carrier) postStatus(m Message, duplicate bool) {
	if m.StatusCallback == "" {
		return
	}
	form := c.statusForm(m)
	token := newSid("")
	n := 1
	if duplicate {
		n = 2
	}
	for range n {
		status, _, err := c.postSigned(c.ctx, m.StatusCallback, form, token)
		att := CallbackAttempt{Status: m.Status, HTTPStatus: status, At: c.now()}
		if err != nil {
			att.Error = err.Error()
			c.log.Warn("sim status callback failed", "sid", m.Sid, "status", m.Status, "err", err.Error())
		} else {
			c.log.Info("sim status callback", "sid", m.Sid, "status", m.Status, "http_status", status)
		}
		c.mu.Lock()
		if mm, ok := c.msgs[m.Sid]; ok {
			mm.Callbacks = append(mm.Callbacks, att)
		}
		c.mu.Unlock()
	}
}

// maxWebhookBody bounds how much of a webhook answer is kept.
const maxWebhookBody = 64 << 10

// postSigned POSTs form to target the way Twilio calls webhooks: form
// encoded, X-Twilio-Signature over target and the parameters, and an
// I-Twilio-Idempotency-Token that stays the same across redeliveries.
func (c *Carrier) postSigned(ctx context.Context, target string, form url.Values, idemToken string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("X-Twilio-Signature", Sign(c.cfg.AuthToken, target, form))
	req.Header.Set("I-Twilio-Idempotency-Token", idemToken)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookBody))
	return resp.StatusCode, string(body), err
}
