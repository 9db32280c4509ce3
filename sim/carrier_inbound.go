package sim

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// InboundSMS is a text a simulated handset sends to the platform.
type InboundSMS struct {
	// To is the platform number texted; the first platform number when empty.
	To string `json:"to"`
	// Body is the text.
	Body string `json:"body"`
	// Duplicate delivers the same webhook twice (same MessageSid and
	// idempotency token), as a Twilio retry or replay does.
	Duplicate bool `json:"duplicate"`
}

// InboundResult reports how the platform's webhook answered.
type InboundResult struct {
	MessageSid    string `json:"message_sid"`
	WebhookStatus int    `json:"webhook_status"`
	WebhookBody   string `json:"webhook_body"`
	WebhookError  string `json:"webhook_error,omitempty"`
	Deliveries    int    `json:"deliveries"`
	// Replies are the SIDs of messages created from <Message> verbs in the
	// webhook's TwiML answers.
	Replies []string `json:"replies"`
}

// SendSMS simulates the handset at from texting the platform: STOP-family
// keywords opt the pair out (START/YES/UNSTOP opt back in) before the
// message is forwarded, as Twilio does, then the signed inbound webhook is
// POSTed to SMSWebhookURL. <Message> verbs in a 2xx TwiML answer are sent
// back to the handset.
func (c *Carrier) SendSMS(ctx context.Context, from string, in InboundSMS) (InboundResult, error) {
	if !e164.MatchString(from) {
		return InboundResult{}, fmt.Errorf("%w: %q", ErrInvalidNumber, from)
	}
	if in.To == "" {
		in.To = c.cfg.PlatformNumbers[0]
	}
	if !c.isPlatformNumber(in.To) {
		return InboundResult{}, fmt.Errorf("%w: %q", ErrNotPlatformNumber, in.To)
	}
	if c.cfg.SMSWebhookURL == "" {
		return InboundResult{}, ErrNoWebhook
	}
	kw := keywordOf(in.Body)
	segments, enc := segmentsOf(in.Body)
	now := c.now()
	m := &Message{
		Sid:         newSid("SM"),
		AccountSid:  c.cfg.AccountSID,
		Direction:   directionInbound,
		From:        from,
		To:          in.To,
		Body:        in.Body,
		NumSegments: segments,
		Encoding:    enc,
		DateCreated: now,
	}
	m.setStatus(StatusReceived, 0, now)
	c.mu.Lock()
	pair := optPair{phone: from, platform: in.To}
	switch {
	case optOutWords[kw]:
		c.optedOut[pair] = true
	case optInWords[kw]:
		delete(c.optedOut, pair)
	}
	c.addMessage(m)
	c.mu.Unlock()
	c.log.Info("sim sms inbound", "sid", m.Sid, "from", maskNumber(from), "to", maskNumber(in.To),
		"keyword", kw, "segments", segments)

	form := c.inboundForm(m, kw)
	token := newSid("")
	res := InboundResult{MessageSid: m.Sid, Replies: []string{}}
	n := 1
	if in.Duplicate {
		n = 2
	}
	for range n {
		status, body, err := c.postSigned(ctx, c.cfg.SMSWebhookURL, form, token)
		res.Deliveries++
		res.WebhookStatus, res.WebhookBody, res.WebhookError = status, body, ""
		if err != nil {
			res.WebhookError = err.Error()
			c.log.Warn("sim sms webhook failed", "sid", m.Sid, "err", err.Error())
			continue
		}
		c.log.Info("sim sms webhook", "sid", m.Sid, "http_status", status)
		if status >= 200 && status < 300 {
			res.Replies = append(res.Replies, c.runMessageTwiML(m, body)...)
		}
	}
	return res, nil
}

// inboundForm builds the inbound message webhook parameters Twilio posts.
func (c *Carrier) inboundForm(m *Message, keyword string) url.Values {
	f := url.Values{
		"ToCountry":     {countryOf(m.To)},
		"ToState":       {""},
		"SmsMessageSid": {m.Sid},
		"NumMedia":      {"0"},
		"ToCity":        {""},
		"FromZip":       {""},
		"SmsSid":        {m.Sid},
		"FromState":     {""},
		"SmsStatus":     {StatusReceived},
		"FromCity":      {""},
		"Body":          {m.Body},
		"FromCountry":   {countryOf(m.From)},
		"To":            {m.To},
		"ToZip":         {""},
		"NumSegments":   {strconv.Itoa(m.NumSegments)},
		"MessageSid":    {m.Sid},
		"AccountSid":    {m.AccountSid},
		"From":          {m.From},
		"ApiVersion":    {twilioAPIVersion},
	}
	if t := optOutType(keyword); t != "" {
		f.Set("OptOutType", t)
	}
	return f
}

// twimlResponse is the part of a messaging TwiML answer the simulator runs.
type twimlResponse struct {
	XMLName  xml.Name       `xml:"Response"`
	Messages []twimlMessage `xml:"Message"`
}

type twimlMessage struct {
	To             string `xml:"to,attr"`
	From           string `xml:"from,attr"`
	StatusCallback string `xml:"statusCallback,attr"`
	Text           string `xml:",chardata"`
	Body           string `xml:"Body"`
}

// runMessageTwiML sends the <Message> verbs of a webhook answer and returns
// the created SIDs. Anything that is not TwiML is ignored.
func (c *Carrier) runMessageTwiML(in *Message, body string) []string {
	var tw twimlResponse
	if strings.TrimSpace(body) == "" || xml.Unmarshal([]byte(body), &tw) != nil {
		return nil
	}
	var sids []string
	for _, v := range tw.Messages {
		text := strings.TrimSpace(v.Body)
		if text == "" {
			text = strings.TrimSpace(v.Text)
		}
		req := outboundRequest{From: in.To, To: in.From, Body: text, StatusCallback: v.StatusCallback, Direction: directionOutReply}
		if v.To != "" {
			req.To = v.To
		}
		if v.From != "" {
			req.From = v.From
		}
		m, err := c.createOutbound(req)
		if err != nil {
			code := 0
			if re, ok := err.(*restError); ok {
				code = re.code
			}
			c.log.Warn("sim twiml message refused", "sid", in.Sid, "code", code)
			continue
		}
		sids = append(sids, m.Sid)
	}
	return sids
}
