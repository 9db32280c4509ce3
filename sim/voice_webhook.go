package sim

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// voiceParams builds the parameters Twilio sends with every voice webhook of
// a call (document requests and status callbacks).
func (c *Carrier) voiceParams(call Call, status string) url.Values {
	v := url.Values{
		"CallSid":       {call.Sid},
		"AccountSid":    {call.AccountSid},
		"From":          {call.From},
		"To":            {call.To},
		"Caller":        {call.From},
		"Called":        {call.To},
		"FromCountry":   {countryOf(call.From)},
		"CallerCountry": {countryOf(call.From)},
		"ToCountry":     {countryOf(call.To)},
		"CalledCountry": {countryOf(call.To)},
		"CallStatus":    {status},
		"ApiVersion":    {twilioAPIVersion},
		"Direction":     {call.Direction},
	}
	if call.AnsweredBy != "" {
		v.Set("AnsweredBy", call.AnsweredBy)
	}
	return v
}

// voiceRequest calls a voice webhook the way Twilio does: POST with the
// parameters form-encoded, or GET with them appended to the query; signed
// with X-Twilio-Signature over the full URL (and the POST parameters).
func (c *Carrier) voiceRequest(ctx context.Context, method, target string, params url.Values) (int, string, error) {
	full := target
	var body io.Reader
	var form url.Values
	if method == http.MethodGet {
		u, err := url.Parse(target)
		if err != nil {
			return 0, "", err
		}
		if enc := params.Encode(); enc != "" {
			if u.RawQuery != "" {
				u.RawQuery += "&"
			}
			u.RawQuery += enc
		}
		full = u.String()
	} else {
		method = http.MethodPost
		form = params
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, full, body)
	if err != nil {
		return 0, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("X-Twilio-Signature", Sign(c.cfg.AuthToken, full, form))
	req.Header.Set("I-Twilio-Idempotency-Token", newSid(""))
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookBody))
	return resp.StatusCode, string(b), err
}

// voiceCallback is one status or AMD callback waiting to be posted.
type voiceCallback struct {
	url, method, status string
	form                url.Values
}

// dispatchCallbacks posts a call's callbacks in order until q is closed,
// recording each attempt on the call.
func (c *Carrier) dispatchCallbacks(vs *voiceState, r *callRecord, q <-chan voiceCallback) {
	for cb := range q {
		status, _, err := c.voiceRequest(c.ctx, cb.method, cb.url, cb.form)
		att := CallbackAttempt{Status: cb.status, HTTPStatus: status, At: c.now()}
		if err != nil {
			att.Error = err.Error()
			c.log.Warn("sim call callback failed", "sid", r.call.Sid, "status", cb.status, "err", err.Error())
		} else {
			c.log.Info("sim call callback", "sid", r.call.Sid, "status", cb.status, "http_status", status)
		}
		vs.mu.Lock()
		r.call.Callbacks = append(r.call.Callbacks, att)
		vs.mu.Unlock()
	}
}
