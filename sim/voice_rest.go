package sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nyaruka/phonenumbers"
)

// Twilio REST error codes of the Calls API.
const (
	codeCallToRequired     = 21201
	codeCallURLInvalid     = 21205
	codeCallFromNotOwned   = 21210
	codeCallFromRequired   = 21213
	codeCallToNotValid     = 21217
	codeCallAppInvalid     = 21218
	codeCallNotInProgress  = 21220
	codeCallbackURLInvalid = 21609
	codeCallbackEvent      = 21626
)

// Calls API limits.
const (
	defaultRingTimeout = 60
	maxRingTimeout     = 600
	defaultTimeLimit   = 14400
	maxTwimlChars      = 4000
	updateAckWait      = 5 * time.Second
)

// callParams are the creation parameters the engine follows.
type callParams struct {
	url, method                 string
	fallbackURL, fallbackMethod string
	twiml                       string
	statusCallback              string
	statusCallbackMethod        string
	events                      map[string]bool
	machineDetection            string
	asyncAMD                    bool
	asyncAMDCallback            string
	asyncAMDCallbackMethod      string
	timeout, timeLimit          int
}

// registerCalls mounts the Twilio Calls REST subset.
func (c *Carrier) registerCalls(e *echo.Echo) {
	const base = "/" + twilioAPIVersion + "/Accounts/:account"
	e.POST(base+"/Calls.json", c.handleCreateCall, c.twilioAuth)
	e.GET(base+"/Calls.json", c.handleListCalls, c.twilioAuth)
	e.GET(base+"/Calls/:sidjson", c.handleFetchCall, c.twilioAuth)
	e.POST(base+"/Calls/:sidjson", c.handleUpdateCall, c.twilioAuth)
}

// callRequest is a validated create request.
type callRequest struct {
	from, to string
	params   callParams
}

// parseCreateCall validates the form of POST .../Calls.json the way Twilio
// does. Failures are *restError.
func (c *Carrier) parseCreateCall(form url.Values) (callRequest, error) {
	req := callRequest{from: strings.TrimSpace(form.Get("From")), to: strings.TrimSpace(form.Get("To"))}
	p := &req.params
	switch {
	case req.to == "":
		return req, &restError{400, codeCallToRequired, "A 'To' phone number is required."}
	case req.from == "":
		return req, &restError{400, codeCallFromRequired, "A 'From' phone number is required."}
	case !e164.MatchString(req.to):
		return req, &restError{400, codeInvalidTo, fmt.Sprintf("The 'To' number %s is not a valid phone number.", req.to)}
	case !possibleNumber(req.to):
		return req, &restError{400, codeCallToNotValid, fmt.Sprintf("Phone number %s does not appear to be valid.", req.to)}
	case !c.isPlatformNumber(req.from):
		return req, &restError{400, codeCallFromNotOwned, fmt.Sprintf(
			"The source phone number provided, %s, is not yet verified for your account.", req.from)}
	}
	p.url, p.twiml = strings.TrimSpace(form.Get("Url")), form.Get("Twiml")
	switch {
	case form.Get("ApplicationSid") != "" && p.url == "" && p.twiml == "":
		return req, &restError{400, codeCallAppInvalid, "The simulator has no TwiML applications; use Url or Twiml."}
	case p.url == "" && p.twiml == "":
		return req, &restError{400, codeCallURLInvalid, "Url, Twiml or ApplicationSid is required."}
	case p.url != "" && p.twiml != "":
		return req, &restError{400, codeInvalidParameter, "Twiml and Url parameters are mutually exclusive."}
	case len(p.twiml) > maxTwimlChars:
		return req, &restError{400, codeInvalidParameter, "Twiml exceeds 4000 characters."}
	}
	if p.url != "" && !absHTTP(p.url) {
		return req, &restError{400, codeCallURLInvalid, "Url is not a valid URL: " + p.url}
	}
	if p.twiml != "" {
		if _, err := parseTwiML(p.twiml); err != nil {
			return req, &restError{400, codeInvalidParameter, "Twiml is not valid TwiML: " + err.Error()}
		}
	}
	var err error
	if p.method, err = httpMethod(form.Get("Method"), "Method"); err != nil {
		return req, err
	}
	if p.fallbackURL = strings.TrimSpace(form.Get("FallbackUrl")); p.fallbackURL != "" && !absHTTP(p.fallbackURL) {
		return req, &restError{400, codeCallURLInvalid, "FallbackUrl is not a valid URL: " + p.fallbackURL}
	}
	if p.fallbackMethod, err = httpMethod(form.Get("FallbackMethod"), "FallbackMethod"); err != nil {
		return req, err
	}
	if err := p.setStatusCallback(form); err != nil {
		return req, err
	}
	p.events = map[string]bool{}
	for _, v := range form["StatusCallbackEvent"] {
		for _, ev := range strings.Fields(v) {
			switch ev {
			case eventInitiated, eventRinging, eventAnswered, eventCompleted:
				p.events[ev] = true
			default:
				return req, &restError{400, codeCallbackEvent, "Invalid StatusCallbackEvent: " + ev}
			}
		}
	}
	if len(p.events) == 0 {
		p.events[eventCompleted] = true
	}
	switch md := form.Get("MachineDetection"); md {
	case "", amdEnable, amdDetectMessageEnd:
		p.machineDetection = md
	default:
		return req, &restError{400, codeInvalidParameter, "MachineDetection must be Enable or DetectMessageEnd"}
	}
	p.asyncAMD = strings.EqualFold(form.Get("AsyncAmd"), "true")
	if p.asyncAMDCallback = strings.TrimSpace(form.Get("AsyncAmdStatusCallback")); p.asyncAMDCallback != "" && !absHTTP(p.asyncAMDCallback) {
		return req, &restError{400, codeCallbackURLInvalid, "AsyncAmdStatusCallback is not a valid URL"}
	}
	if p.asyncAMDCallbackMethod, err = httpMethod(form.Get("AsyncAmdStatusCallbackMethod"), "AsyncAmdStatusCallbackMethod"); err != nil {
		return req, err
	}
	if p.timeout, err = intParam(form, "Timeout", defaultRingTimeout); err != nil {
		return req, err
	}
	p.timeout = min(max(p.timeout, 1), maxRingTimeout)
	if p.timeLimit, err = intParam(form, "TimeLimit", defaultTimeLimit); err != nil {
		return req, err
	}
	if p.timeLimit < 1 {
		p.timeLimit = defaultTimeLimit
	}
	return req, nil
}

// setStatusCallback reads StatusCallback and StatusCallbackMethod.
func (p *callParams) setStatusCallback(form url.Values) error {
	if v, ok := form["StatusCallback"]; ok {
		cb := strings.TrimSpace(v[0])
		if cb != "" && !absHTTP(cb) {
			return &restError{400, codeCallbackURLInvalid, "StatusCallback is not a valid URL: " + cb}
		}
		p.statusCallback = cb
	}
	if form.Get("StatusCallbackMethod") != "" || p.statusCallbackMethod == "" {
		m, err := httpMethod(form.Get("StatusCallbackMethod"), "StatusCallbackMethod")
		if err != nil {
			return err
		}
		p.statusCallbackMethod = m
	}
	return nil
}

// possibleNumber reports whether an E.164 number has a possible length for
// its country.
func possibleNumber(n string) bool {
	pn, err := phonenumbers.Parse(n, "")
	return err == nil && phonenumbers.IsPossibleNumber(pn)
}

// absHTTP reports whether s is an absolute http(s) URL with a host.
func absHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// httpMethod validates a GET/POST parameter, POST when empty.
func httpMethod(v, name string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "", http.MethodPost:
		return http.MethodPost, nil
	case http.MethodGet:
		return http.MethodGet, nil
	}
	return "", &restError{400, codeInvalidParameter, name + " must be GET or POST"}
}

// intParam reads an integer parameter, def when absent.
func intParam(form url.Values, name string, def int) (int, error) {
	v := strings.TrimSpace(form.Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &restError{400, codeInvalidParameter, name + " must be an integer"}
	}
	return n, nil
}

// handleCreateCall is POST /2010-04-01/Accounts/{AccountSid}/Calls.json.
func (c *Carrier) handleCreateCall(ec echo.Context) error {
	r := ec.Request()
	if err := r.ParseForm(); err != nil {
		return badRequest(ec, codeInvalidParameter, "Invalid form body")
	}
	req, err := c.parseCreateCall(r.PostForm)
	if err != nil {
		return writeRestError(ec, err)
	}
	call := c.placeOutbound(req)
	return ec.JSON(http.StatusCreated, renderCall(call))
}

// writeRestError answers a *restError as Twilio's error JSON.
func writeRestError(ec echo.Context, err error) error {
	if re, ok := err.(*restError); ok {
		return writeTwilioError(ec, re.status, re.code, re.msg)
	}
	return err
}

// placeOutbound records an outbound call and starts its engine.
func (c *Carrier) placeOutbound(req callRequest) Call {
	vs := c.voice()
	now := c.now()
	r := &callRecord{
		call: Call{
			Sid: newSid("CA"), AccountSid: c.cfg.AccountSID, Direction: directionOutboundAPI,
			From: req.from, To: req.to, Status: CallQueued, DateCreated: now, DateUpdated: now,
			URL: req.params.url, Method: req.params.method, StatusCallback: req.params.statusCallback,
			StatusCallbackEvents: eventList(req.params.events), MachineDetection: req.params.machineDetection,
			Timeout: req.params.timeout, TimeLimit: req.params.timeLimit,
			Transcript: []TranscriptEntry{}, Requests: []VoiceRequest{}, Callbacks: []CallbackAttempt{},
		},
		handset: req.to,
		params:  req.params,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	vs.mu.Lock()
	vs.addCall(r)
	snap := r.call.clone()
	vs.mu.Unlock()
	c.log.Info("sim call queued", "sid", snap.Sid, "to", maskNumber(snap.To), "from", maskNumber(snap.From),
		"amd", snap.MachineDetection)
	c.start(vs, r, func(run *callRun) { run.runOutbound() })
	return snap
}

// eventList lists requested status callback events in Twilio's order.
func eventList(events map[string]bool) []string {
	var out []string
	for _, ev := range []string{eventInitiated, eventRinging, eventAnswered, eventCompleted} {
		if events[ev] {
			out = append(out, ev)
		}
	}
	return out
}

// callSid reads the {CallSid}.json path segment.
func callSid(ec echo.Context) (string, bool) {
	return strings.CutSuffix(ec.Param("sidjson"), ".json")
}

// notFound answers Twilio's 20404.
func notFound(ec echo.Context) error {
	return writeTwilioError(ec, http.StatusNotFound, codeNotFound,
		"The requested resource "+ec.Request().URL.Path+" was not found")
}

// handleFetchCall is GET /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json.
func (c *Carrier) handleFetchCall(ec echo.Context) error {
	sid, ok := callSid(ec)
	if !ok {
		return notFound(ec)
	}
	call, err := c.Call(sid)
	if err != nil {
		return notFound(ec)
	}
	return ec.JSON(http.StatusOK, renderCall(call))
}

// handleUpdateCall is POST /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json:
// Status=canceled|completed ends the call, Url or Twiml redirects an
// answered call, StatusCallback / StatusCallbackMethod change where the
// remaining callbacks go.
func (c *Carrier) handleUpdateCall(ec echo.Context) error {
	sid, ok := callSid(ec)
	if !ok {
		return notFound(ec)
	}
	r := ec.Request()
	if err := r.ParseForm(); err != nil {
		return badRequest(ec, codeInvalidParameter, "Invalid form body")
	}
	form := r.PostForm
	vs := c.voice()
	vs.mu.Lock()
	rec, found := vs.calls[sid]
	vs.mu.Unlock()
	if !found {
		return notFound(ec)
	}
	u, err := parseUpdate(form)
	if err != nil {
		return writeRestError(ec, err)
	}
	vs.mu.Lock()
	p := rec.params
	if err := p.setStatusCallback(form); err != nil {
		vs.mu.Unlock()
		return writeRestError(ec, err)
	}
	rec.params = p
	rec.call.StatusCallback = p.statusCallback
	status := rec.call.Status
	switch {
	case u == nil:
	case u.src != nil && (status != CallInProgress || rec.call.Ended):
		vs.mu.Unlock()
		return badRequest(ec, codeCallNotInProgress, "Call is not in-progress. Cannot redirect.")
	case rec.call.Ended || terminal(status):
		u = nil
	case u.hangup && status == CallInProgress && u.status == CallCanceled:
		u = nil // canceling an answered call has no effect
	}
	if u != nil {
		if old := rec.pending; old != nil {
			close(old.applied) // superseded before the engine saw it
		}
		rec.pending = &u.callUpdate
		select {
		case rec.wake <- struct{}{}:
		default:
		}
	}
	vs.mu.Unlock()
	if u != nil {
		t := time.NewTimer(updateAckWait)
		select {
		case <-u.applied:
		case <-rec.done:
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	call, _ := c.Call(sid)
	return ec.JSON(http.StatusOK, renderCall(call))
}

// restUpdate is a parsed update request.
type restUpdate struct {
	callUpdate
	status string
}

// parseUpdate reads Status, Url, Method and Twiml; nil when the request
// only changes callbacks.
func parseUpdate(form url.Values) (*restUpdate, error) {
	u := &restUpdate{callUpdate: callUpdate{applied: make(chan struct{})}}
	switch s := form.Get("Status"); s {
	case "":
	case CallCanceled, CallCompleted:
		u.hangup, u.status = true, s
	default:
		return nil, &restError{400, codeInvalidParameter, "Status must be canceled or completed"}
	}
	target, twiml := strings.TrimSpace(form.Get("Url")), form.Get("Twiml")
	if u.hangup && (target != "" || twiml != "") {
		return nil, &restError{400, codeInvalidParameter, "Status cannot be combined with Url or Twiml"}
	}
	switch {
	case target != "" && twiml != "":
		return nil, &restError{400, codeInvalidParameter, "Twiml and Url parameters are mutually exclusive."}
	case target != "":
		if !absHTTP(target) {
			return nil, &restError{400, codeCallURLInvalid, "Url is not a valid URL: " + target}
		}
		m, err := httpMethod(form.Get("Method"), "Method")
		if err != nil {
			return nil, err
		}
		u.src = &docSource{url: target, method: m}
	case twiml != "":
		if _, err := parseTwiML(twiml); err != nil {
			return nil, &restError{400, codeInvalidParameter, "Twiml is not valid TwiML: " + err.Error()}
		}
		u.src = &docSource{twiml: twiml}
	}
	if !u.hangup && u.src == nil {
		return nil, nil
	}
	return u, nil
}
