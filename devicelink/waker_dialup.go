package devicelink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// WakeAttemptParam is the query parameter of the wake status callback URL
// that carries the attempt id (pass it to Service.CallStatus).
const WakeAttemptParam = "attempt"

// RejectTwiML is the TwiML of every wake call: nothing is ever answered.
const RejectTwiML = "<Response><Reject/></Response>"

// ErrWakeCall means the carrier refused to place a wake call (the error
// wraps the carrier's).
var ErrWakeCall = errors.New("devicelink: wake call not placed")

// DialUpWaker wakes meters by a call to the meter's SIM number from the
// platform's caller ID: the meter checks the caller ID, refuses the call
// (busy) and connects back. The call never runs anything: its TwiML is
// RejectTwiML.
type DialUpWaker struct {
	client      *twilio.RestClient
	callerID    string
	callbackURL string
	ringTimeout time.Duration
}

var _ Waker = (*DialUpWaker)(nil)

// NewDialUpWaker returns a Waker placing calls through client (real Twilio
// or the simulated carrier) from callerID (E.164), ringing at most
// ringTimeout (rounded up to whole seconds, at least 5 s; the design's
// starting value is 25 s). statusCallbackURL is the signed webhook that
// reports call outcomes; the attempt id is added as the query parameter
// WakeAttemptParam.
func NewDialUpWaker(client *twilio.RestClient, callerID string, statusCallbackURL string, ringTimeout time.Duration) *DialUpWaker {
	return &DialUpWaker{client: client, callerID: callerID, callbackURL: statusCallbackURL, ringTimeout: ringTimeout}
}

// Wake implements Waker with one Calls API request.
func (w *DialUpWaker) Wake(ctx context.Context, req WakeRequest) (WakeResult, error) {
	if req.SIMNumber == "" {
		return WakeResult{}, fmt.Errorf("%w: meter %s has no SIM number", ErrWakeCall, req.MeterID)
	}
	cb, err := url.Parse(w.callbackURL)
	if err != nil {
		return WakeResult{}, fmt.Errorf("%w: status callback url: %v", ErrWakeCall, err)
	}
	q := cb.Query()
	q.Set(WakeAttemptParam, req.AttemptID)
	cb.RawQuery = q.Encode()
	secs := max(int((w.ringTimeout+time.Second-1)/time.Second), 5)
	params := &openapi.CreateCallParams{}
	params.SetTo(req.SIMNumber).
		SetFrom(w.callerID).
		SetTwiml(RejectTwiML).
		SetTimeout(secs).
		SetStatusCallback(cb.String()).
		SetStatusCallbackMethod("POST").
		SetStatusCallbackEvent([]string{"completed"})
	if err := ctx.Err(); err != nil {
		return WakeResult{}, err
	}
	call, err := w.client.Api.CreateCall(params)
	if err != nil {
		var te *twclient.TwilioRestError
		if errors.As(err, &te) {
			return WakeResult{}, fmt.Errorf("%w: carrier error %d (HTTP %d): %s", ErrWakeCall, te.Code, te.Status, te.Message)
		}
		return WakeResult{}, fmt.Errorf("%w: %w", ErrWakeCall, err)
	}
	res := WakeResult{}
	if call.Sid != nil {
		res.CallSID = *call.Sid
	}
	if call.Status != nil {
		res.Status = *call.Status
	}
	return res, nil
}
