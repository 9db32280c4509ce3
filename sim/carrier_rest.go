package sim

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// registerTwilio mounts the Twilio Messaging and Calls REST subsets.
func (c *Carrier) registerTwilio(e *echo.Echo) {
	e.Use(twilioRouteErrors)
	c.registerCalls(e)
	const base = "/" + twilioAPIVersion + "/Accounts/:account"
	e.POST(base+"/Messages.json", c.handleCreateMessage, c.twilioAuth)
	e.GET(base+"/Messages.json", c.handleListMessages, c.twilioAuth)
	e.GET(base+"/Messages/:sidjson", c.handleFetchMessage, c.twilioAuth)
	e.POST(base+"/Messages/:sidjson", c.handleUpdateMessage, c.twilioAuth)
	e.DELETE(base+"/Messages/:sidjson", c.handleDeleteMessage, c.twilioAuth)
}

// twilioAuth checks HTTP basic auth (AccountSID / AuthToken) and the
// {AccountSid} path segment.
func (c *Carrier) twilioAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		user, pass, ok := ec.Request().BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(c.cfg.AccountSID)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(c.cfg.AuthToken)) != 1 {
			c.log.Warn("sim twilio auth failed", "path", ec.Request().URL.Path)
			return writeTwilioError(ec, http.StatusUnauthorized, codeAuthenticate, "Authenticate")
		}
		if ec.Param("account") != c.cfg.AccountSID {
			return writeTwilioError(ec, http.StatusNotFound, codeNotFound,
				"The requested resource "+ec.Request().URL.Path+" was not found")
		}
		return next(ec)
	}
}

// restError is a Twilio REST validation error.
type restError struct {
	status, code int
	msg          string
}

// Error implements error.
func (e *restError) Error() string { return fmt.Sprintf("twilio %d: %s", e.code, e.msg) }

// outboundRequest is a message to create.
type outboundRequest struct {
	From, To, Body, StatusCallback, Direction string
	ValidityPeriod                            int
}

// handleCreateMessage is POST /2010-04-01/Accounts/{AccountSid}/Messages.json.
func (c *Carrier) handleCreateMessage(ec echo.Context) error {
	r := ec.Request()
	if err := r.ParseForm(); err != nil {
		return badRequest(ec, codeInvalidParameter, "Invalid form body")
	}
	if _, ok := c.takeFault(FaultMessages429); ok {
		c.log.Info("sim fault fired", "kind", string(FaultMessages429))
		return writeTwilioError(ec, http.StatusTooManyRequests, codeTooManyRequests, "Too Many Requests")
	}
	if _, ok := c.takeFault(FaultMessages5xx); ok {
		c.log.Info("sim fault fired", "kind", string(FaultMessages5xx))
		return writeTwilioError(ec, http.StatusInternalServerError, codeInternal, "Internal Server Error")
	}
	form := r.PostForm
	req := outboundRequest{
		From:           strings.TrimSpace(form.Get("From")),
		To:             strings.TrimSpace(form.Get("To")),
		Body:           form.Get("Body"),
		StatusCallback: form.Get("StatusCallback"),
		Direction:      directionOutbound,
	}
	if v := form.Get("ValidityPeriod"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxValidityPeriodSecond {
			return badRequest(ec, codeInvalidValidity, "ValidityPeriod must be an integer between 1 and 36000")
		}
		req.ValidityPeriod = n
	}
	if req.From == "" && form.Get("MessagingServiceSid") != "" {
		return badRequest(ec, codeFromRequired, "A 'From' phone number is required (the simulator has no Messaging Services).")
	}
	m, err := c.createOutbound(req)
	if err != nil {
		if re, ok := err.(*restError); ok {
			return writeTwilioError(ec, re.status, re.code, re.msg)
		}
		return err
	}
	c.mu.Lock()
	c.countAcceptedLocked(m.To)
	c.mu.Unlock()
	if f, ok := c.takeFault(FaultMessagesTimeout); ok {
		c.log.Info("sim fault fired", "kind", string(FaultMessagesTimeout), "sid", m.Sid, "delay_ms", f.DelayMS)
		t := time.NewTimer(time.Duration(f.DelayMS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return nil
		case <-c.ctx.Done():
			return nil
		}
	}
	return ec.JSON(http.StatusCreated, render(m))
}

// createOutbound validates and records an outbound message, then starts its
// delivery. Validation failures are *restError.
func (c *Carrier) createOutbound(req outboundRequest) (Message, error) {
	switch {
	case req.To == "":
		return Message{}, &restError{400, codeToRequired, "A 'To' phone number is required."}
	case !e164.MatchString(req.To):
		return Message{}, &restError{400, codeInvalidTo, fmt.Sprintf("The 'To' number %s is not a valid phone number.", req.To)}
	case req.From == "":
		return Message{}, &restError{400, codeFromRequired, "A 'From' phone number is required."}
	case !c.isPlatformNumber(req.From):
		return Message{}, &restError{400, codeFromNotOwned, fmt.Sprintf(
			"The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", req.From)}
	case req.Body == "":
		return Message{}, &restError{400, codeBodyRequired, "Message body is required."}
	case len([]rune(req.Body)) > maxBodyChars:
		return Message{}, &restError{400, codeBodyTooLong, "The concatenated message body exceeds the 1600 character limit."}
	}
	segments, enc := segmentsOf(req.Body)
	now := c.now()
	c.mu.Lock()
	if c.optedOut[optPair{phone: req.To, platform: req.From}] {
		c.mu.Unlock()
		c.log.Info("sim sms refused", "to", maskNumber(req.To), "from", maskNumber(req.From), "code", codeUnsubscribed)
		return Message{}, &restError{400, codeUnsubscribed, "Attempt to send to unsubscribed recipient"}
	}
	m := &Message{
		Sid:            newSid("SM"),
		AccountSid:     c.cfg.AccountSID,
		Direction:      req.Direction,
		From:           req.From,
		To:             req.To,
		Body:           req.Body,
		NumSegments:    segments,
		Encoding:       enc,
		DateCreated:    now,
		StatusCallback: req.StatusCallback,
		ValidityPeriod: req.ValidityPeriod,
	}
	m.setStatus(StatusQueued, 0, now)
	c.addMessage(m)
	var plan deliveryPlan
	if f, ok := c.takeFaultLocked(FaultQueueDelay); ok {
		plan.hold = time.Duration(f.DelayMS) * time.Millisecond
	}
	_, plan.duplicate = c.takeFaultLocked(FaultStatusDuplicate)
	_, plan.reverse = c.takeFaultLocked(FaultStatusOutOfOrder)
	snap := m.clone()
	c.mu.Unlock()

	c.log.Info("sim sms queued", "sid", snap.Sid, "to", maskNumber(snap.To), "from", maskNumber(snap.From),
		"segments", segments, "encoding", enc)
	c.background(func() { c.deliver(snap.Sid, plan) })
	return snap, nil
}

// handleFetchMessage is GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json.
func (c *Carrier) handleFetchMessage(ec echo.Context) error {
	sid, ok := strings.CutSuffix(ec.Param("sidjson"), ".json")
	if ok {
		if m, err := c.Message(sid); err == nil {
			return ec.JSON(http.StatusOK, render(m))
		}
	}
	return writeTwilioError(ec, http.StatusNotFound, codeNotFound,
		"The requested resource "+ec.Request().URL.Path+" was not found")
}

func itoa(n int) string { return strconv.Itoa(n) }
