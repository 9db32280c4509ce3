package sim

import (
	"fmt"
	"net/http"
)

// InboundCall is a call a simulated handset places to the platform.
type InboundCall struct {
	// To is the platform number dialled; the first platform number when
	// empty.
	To string `json:"to"`
	// Steps are what the caller does at each <Gather>, in order.
	Steps []VoiceStep `json:"steps"`
	// FromWithheld hides the caller ID: the webhook's From is "anonymous".
	FromWithheld bool `json:"from_withheld"`
}

// CallPlatform simulates the handset at from calling a platform number: the
// call rings while Config.VoiceWebhookURL is fetched (CallStatus=ringing,
// Direction=inbound) and is answered unless the TwiML starts with
// <Reject>; the TwiML then runs against in.Steps. Config.
// VoiceStatusCallbackURL, when set, gets the "completed" callback. The call
// runs in the background; the returned Call is its state at the start.
func (c *Carrier) CallPlatform(from string, in InboundCall) (Call, error) {
	if !e164.MatchString(from) {
		return Call{}, fmt.Errorf("%w: %q", ErrInvalidNumber, from)
	}
	if in.To == "" {
		in.To = c.cfg.PlatformNumbers[0]
	}
	if !c.isPlatformNumber(in.To) {
		return Call{}, fmt.Errorf("%w: %q", ErrNotPlatformNumber, in.To)
	}
	if c.cfg.VoiceWebhookURL == "" {
		return Call{}, ErrNoVoiceWebhook
	}
	steps, err := normaliseSteps(in.Steps)
	if err != nil {
		return Call{}, err
	}
	callerID := from
	if in.FromWithheld {
		callerID = withheldCallerID
	}
	p := callParams{
		url: c.cfg.VoiceWebhookURL, method: http.MethodPost,
		statusCallback: c.cfg.VoiceStatusCallbackURL, statusCallbackMethod: http.MethodPost,
		events:  map[string]bool{eventCompleted: true},
		timeout: defaultRingTimeout, timeLimit: defaultTimeLimit,
	}
	now := c.now()
	r := &callRecord{
		call: Call{
			Sid: newSid("CA"), AccountSid: c.cfg.AccountSID, Direction: directionInboundCall,
			From: callerID, To: in.To, Status: CallQueued, DateCreated: now, DateUpdated: now,
			URL: p.url, Method: p.method, StatusCallback: p.statusCallback,
			StatusCallbackEvents: eventList(p.events), Timeout: p.timeout, TimeLimit: p.timeLimit,
			Transcript: []TranscriptEntry{}, Requests: []VoiceRequest{}, Callbacks: []CallbackAttempt{},
		},
		handset: from,
		params:  p,
		steps:   steps,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	vs := c.voice()
	vs.mu.Lock()
	vs.addCall(r)
	snap := r.call.clone()
	vs.mu.Unlock()
	c.log.Info("sim call inbound", "sid", snap.Sid, "from", maskNumber(from), "to", maskNumber(in.To),
		"withheld", in.FromWithheld, "steps", len(steps))
	c.start(vs, r, func(run *callRun) { run.runInbound() })
	return snap, nil
}
