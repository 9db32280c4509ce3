package sim

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Call statuses, as Twilio names them.
const (
	CallQueued     = "queued"
	CallRinging    = "ringing"
	CallInProgress = "in-progress"
	CallCompleted  = "completed"
	CallBusy       = "busy"
	CallFailed     = "failed"
	CallNoAnswer   = "no-answer"
	CallCanceled   = "canceled"
)

// Call directions, as Twilio names them.
const (
	directionOutboundAPI = "outbound-api"
	directionInboundCall = "inbound"
)

// withheldCallerID is the From Twilio reports for a caller who hides their
// number.
const withheldCallerID = "anonymous"

// Sentinel errors of the voice simulation.
var (
	// ErrNoVoiceWebhook means no voice webhook URL is configured.
	ErrNoVoiceWebhook = errors.New("sim: no voice webhook URL configured")
	// ErrInvalidScript means a handset voice script is not valid.
	ErrInvalidScript = errors.New("sim: invalid voice script")
)

// Transcript entry kinds: what the handset heard or did, in order.
const (
	EntrySay      = "say"
	EntryPlay     = "play"
	EntryPause    = "pause"
	EntryGather   = "gather"
	EntryDigits   = "digits"
	EntrySpeech   = "speech"
	EntryTimeout  = "timeout"
	EntryRedirect = "redirect"
	EntryHangup   = "hangup"
	EntryStatus   = "status"
	EntryError    = "error"
	// EntrySkipped is a Twilio verb the simulator does not run (<Dial>,
	// <Record>, ...); the call goes on with the next verb.
	EntrySkipped = "skipped"
)

// ApplicationErrorText is what a caller hears when the platform's webhook
// fails or answers something that is not TwiML.
const ApplicationErrorText = "We are sorry, an application error has occurred. Goodbye."

// TranscriptEntry is one thing that happened on a call. T is the simulated
// second since the call was placed. For say, Text is the words; for play and
// redirect, URL the resolved address; for gather, URL the action and Text its
// settings; for digits, Text the keys the caller pressed; for status, Text the
// new call status; for hangup, Text who hung up (caller, twiml, api,
// time-limit, reject); for error, Text what the caller heard, Code the Twilio
// error code and Detail the cause.
type TranscriptEntry struct {
	T        int    `json:"t"`
	Kind     string `json:"kind"`
	Text     string `json:"text,omitempty"`
	Language string `json:"language,omitempty"`
	Voice    string `json:"voice,omitempty"`
	URL      string `json:"url,omitempty"`
	Loop     int    `json:"loop,omitempty"`
	Code     int    `json:"code,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// VoiceRequest is one TwiML document request the carrier made during a call.
type VoiceRequest struct {
	T          int    `json:"t"`
	Method     string `json:"method"`
	URL        string `json:"url"`
	HTTPStatus int    `json:"http_status"`
	Error      string `json:"error,omitempty"`
	Digits     string `json:"digits,omitempty"`
}

// Call is the simulator's record of one voice call, outbound (placed through
// the Calls API) or inbound (placed by a simulated handset). Times follow
// the simulated call clock: the carrier clock when the call was placed plus
// the simulated seconds since.
type Call struct {
	Sid                  string            `json:"sid"`
	AccountSid           string            `json:"account_sid"`
	Direction            string            `json:"direction"`
	From                 string            `json:"from"`
	To                   string            `json:"to"`
	Status               string            `json:"status"`
	AnsweredBy           string            `json:"answered_by,omitempty"`
	DateCreated          time.Time         `json:"date_created"`
	DateUpdated          time.Time         `json:"date_updated"`
	StartTime            *time.Time        `json:"start_time,omitempty"`
	EndTime              *time.Time        `json:"end_time,omitempty"`
	DurationS            int               `json:"duration_s"`
	URL                  string            `json:"url,omitempty"`
	Method               string            `json:"method,omitempty"`
	StatusCallback       string            `json:"status_callback,omitempty"`
	StatusCallbackEvents []string          `json:"status_callback_events,omitempty"`
	MachineDetection     string            `json:"machine_detection,omitempty"`
	Timeout              int               `json:"timeout"`
	TimeLimit            int               `json:"time_limit"`
	Documents            int               `json:"documents"`
	Ended                bool              `json:"ended"`
	Transcript           []TranscriptEntry `json:"transcript"`
	Requests             []VoiceRequest    `json:"requests"`
	Callbacks            []CallbackAttempt `json:"callbacks"`
}

// clone returns a deep copy safe to hand out of the lock.
func (c *Call) clone() Call {
	cp := *c
	cp.StatusCallbackEvents = append([]string(nil), c.StatusCallbackEvents...)
	cp.Transcript = append([]TranscriptEntry{}, c.Transcript...)
	cp.Requests = append([]VoiceRequest{}, c.Requests...)
	cp.Callbacks = append([]CallbackAttempt{}, c.Callbacks...)
	if c.StartTime != nil {
		t := *c.StartTime
		cp.StartTime = &t
	}
	if c.EndTime != nil {
		t := *c.EndTime
		cp.EndTime = &t
	}
	return cp
}

// terminal reports whether a call status is final.
func terminal(status string) bool {
	switch status {
	case CallCompleted, CallBusy, CallFailed, CallNoAnswer, CallCanceled:
		return true
	}
	return false
}

// callRecord is a call and what its engine needs; guarded by voiceState.mu
// except the immutable fields.
type callRecord struct {
	call    Call
	seq     int64
	handset string     // the simulated phone's number (the real one when withheld)
	params  callParams // as created; statusCallback* follow updates
	steps   []VoiceStep
	pending *callUpdate
	wake    chan struct{} // nudges a sleeping engine when pending is set
	done    chan struct{} // closed when the call ended and its callbacks were posted
}

// callUpdate is a change requested through the REST API while the call runs.
type callUpdate struct {
	hangup  bool       // end the call: completed when answered, canceled before
	src     *docSource // redirect an answered call to a new document
	applied chan struct{}
}

// voiceState is the carrier's voice state: calls, handset scripts and the
// device callee hook.
type voiceState struct {
	mu      sync.Mutex
	seq     int64
	calls   map[string]*callRecord
	order   []*callRecord
	scripts map[string]VoiceScript
	callee  Callee
}

// voiceStates holds each carrier's voice state; an entry is dropped when its
// carrier closes.
var voiceStates sync.Map // *Carrier -> *voiceState

// voice returns the carrier's voice state, creating it on first use.
func (c *Carrier) voice() *voiceState {
	if v, ok := voiceStates.Load(c); ok {
		return v.(*voiceState)
	}
	v, loaded := voiceStates.LoadOrStore(c, &voiceState{
		calls:   map[string]*callRecord{},
		scripts: map[string]VoiceScript{},
	})
	if !loaded {
		context.AfterFunc(c.ctx, func() { voiceStates.Delete(c) })
	}
	return v.(*voiceState)
}

// addCall stores a new call; the caller holds vs.mu.
func (vs *voiceState) addCall(r *callRecord) {
	vs.seq++
	r.seq = vs.seq
	vs.calls[r.call.Sid] = r
	vs.order = append(vs.order, r)
}

// Call returns one call by SID.
func (c *Carrier) Call(sid string) (Call, error) {
	vs := c.voice()
	vs.mu.Lock()
	defer vs.mu.Unlock()
	r, ok := vs.calls[sid]
	if !ok {
		return Call{}, ErrNotFound
	}
	return r.call.clone(), nil
}

// Calls returns every call, oldest first.
func (c *Carrier) Calls() []Call {
	vs := c.voice()
	vs.mu.Lock()
	defer vs.mu.Unlock()
	out := make([]Call, 0, len(vs.order))
	for _, r := range vs.order {
		out = append(out, r.call.clone())
	}
	return out
}

// PhoneCalls returns the calls the handset at number received or placed,
// oldest first (a withheld-number call is listed under the real caller).
func (c *Carrier) PhoneCalls(number string) []Call {
	vs := c.voice()
	vs.mu.Lock()
	defer vs.mu.Unlock()
	out := []Call{}
	for _, r := range vs.order {
		if r.handset == number {
			out = append(out, r.call.clone())
		}
	}
	return out
}

// WaitCall blocks until the call has ended and its status callbacks were
// posted, or ctx ends, and returns the call as it is then. The error is
// ctx's when the call had not ended.
func (c *Carrier) WaitCall(ctx context.Context, sid string) (Call, error) {
	vs := c.voice()
	vs.mu.Lock()
	r, ok := vs.calls[sid]
	vs.mu.Unlock()
	if !ok {
		return Call{}, ErrNotFound
	}
	var err error
	select {
	case <-r.done:
	case <-ctx.Done():
		err = ctx.Err()
	case <-c.ctx.Done():
		err = context.Canceled
	}
	got, _ := c.Call(sid)
	return got, err
}
