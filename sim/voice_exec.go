package sim

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// docSource is where the next TwiML document comes from.
type docSource struct {
	url, method string
	params      url.Values // extra request parameters (Digits, ...)
	twiml       string     // an inline document (Twiml parameter) instead of a URL
	fallback    bool       // this request is the FallbackUrl one
	duplicate   bool       // deliver the request twice (a carrier retry)
}

// flowKind says how execution goes on after a verb.
type flowKind int

const (
	flowNext flowKind = iota // the next verb of the document
	flowDoc                  // a new document (Gather action, Redirect, API update)
	flowEnd                  // the call ends
)

// flow is the outcome of a verb.
type flow struct {
	kind flowKind
	src  docSource
}

var (
	goNext = flow{kind: flowNext}
	goEnd  = flow{kind: flowEnd}
)

// Twilio error codes the engine reports in application errors.
const (
	errInvalidURL       = 11100
	errHTTPRetrieval    = 11200
	errHTTPConnection   = 11205
	errDocumentParse    = 12100
	errSchemaValidation = 12200
)

// session runs TwiML documents from src until the call ends. status is the
// CallStatus of the first request (ringing for inbound calls).
func (run *callRun) session(src docSource, status string) {
	for {
		if f := run.poll(); f.kind == flowEnd {
			return
		} else if f.kind == flowDoc {
			src = f.src
		}
		root, ok := run.load(src, status)
		if !ok {
			return
		}
		status = CallInProgress
		if !run.answered {
			verbs := root.verbs()
			if len(verbs) > 0 && verbs[0].name == "Reject" {
				reason := verbs[0].attr("reason", "rejected")
				run.note(TranscriptEntry{Kind: EntryHangup, Text: "reject", Detail: reason})
				final := CallNoAnswer
				if reason == "busy" {
					final = CallBusy
				}
				run.setStatus(final, eventCompleted)
				return
			}
			run.answer()
		}
		f := run.execDoc(root)
		if f.kind != flowDoc {
			return
		}
		src = f.src
	}
}

// load fetches and parses one document; false when the call must end (the
// application error, or the document cap, is recorded).
func (run *callRun) load(src docSource, status string) (*twimlNode, bool) {
	if maxDocs := run.c.cfg.VoiceMaxDocuments; run.docs >= maxDocs {
		run.answer()
		run.note(TranscriptEntry{Kind: EntryError, URL: src.url,
			Detail: fmt.Sprintf("more than %d TwiML documents in one call; call ended", maxDocs)})
		return nil, false
	}
	run.docs++
	run.vs.mu.Lock()
	run.r.call.Documents = run.docs
	run.vs.mu.Unlock()
	if src.url == "" {
		root, err := parseTwiML(src.twiml)
		if err == nil {
			err = checkVerbs(root)
		}
		if err != nil {
			run.appError(errDocumentParse, "inline TwiML: "+err.Error(), "")
			return nil, false
		}
		run.docURL = ""
		return root, true
	}
	params := run.c.voiceParams(run.snapshot(), status)
	for k, vs := range src.params {
		params[k] = vs
	}
	if src.duplicate {
		dcode, _, derr := run.c.voiceRequest(run.c.ctx, src.method, src.url, params)
		detail := "status " + strconv.Itoa(dcode)
		if derr != nil {
			detail = derr.Error()
		}
		run.note(TranscriptEntry{Kind: EntryRedirect, URL: src.url, Detail: "duplicate delivery of the same request: " + detail})
	}
	code, body, err := run.c.voiceRequest(run.c.ctx, src.method, src.url, params)
	req := VoiceRequest{T: run.t, Method: src.method, URL: src.url, HTTPStatus: code, Digits: src.params.Get("Digits")}
	if err != nil {
		req.Error = err.Error()
	}
	run.vs.mu.Lock()
	run.r.call.Requests = append(run.r.call.Requests, req)
	run.vs.mu.Unlock()
	if run.c.ctx.Err() != nil {
		return nil, false
	}
	var root *twimlNode
	ecode, detail := 0, ""
	switch {
	case err != nil:
		ecode, detail = errHTTPConnection, "HTTP connection failure: "+err.Error()
	case code < 200 || code > 299:
		ecode, detail = errHTTPRetrieval, "HTTP retrieval failure: status "+strconv.Itoa(code)
	default:
		var perr error
		if root, perr = parseTwiML(body); perr != nil {
			ecode, detail = errDocumentParse, "document parse failure: "+perr.Error()
		} else if verr := checkVerbs(root); verr != nil {
			ecode, detail = errSchemaValidation, "schema validation: "+verr.Error()
		}
	}
	run.c.log.Info("sim call webhook", "sid", run.r.call.Sid, "method", src.method, "http_status", code, "error_code", ecode)
	if ecode == 0 {
		run.docURL = src.url
		return root, true
	}
	if p := run.params(); p.fallbackURL != "" && !src.fallback {
		fb := p.fallbackURL
		run.note(TranscriptEntry{Kind: EntryRedirect, URL: fb, Code: ecode, Detail: "fallback: " + detail})
		fparams := url.Values{"ErrorCode": {strconv.Itoa(ecode)}, "ErrorUrl": {src.url}}
		for k, vs := range src.params {
			fparams[k] = vs
		}
		return run.load(docSource{url: fb, method: p.fallbackMethod, params: fparams, fallback: true}, status)
	}
	run.appError(ecode, detail, src.url)
	return nil, false
}

// appError records the application error message the caller hears; the
// call then ends. An inbound call is answered to play it.
func (run *callRun) appError(code int, detail, at string) {
	run.answer()
	run.note(TranscriptEntry{Kind: EntryError, Text: ApplicationErrorText, Code: code, Detail: detail, URL: at})
	run.c.log.Warn("sim call application error", "sid", run.r.call.Sid, "code", code, "detail", detail)
}

// execDoc runs the verbs of a document in order.
func (run *callRun) execDoc(root *twimlNode) flow {
	for _, v := range root.verbs() {
		if f := run.poll(); f.kind != flowNext {
			return f
		}
		if f := run.verb(v, false); f.kind != flowNext {
			return f
		}
	}
	return goEnd
}

// poll applies a pending REST update: hang up, or redirect to a new
// document.
func (run *callRun) poll() flow {
	u := run.takePending()
	if u == nil {
		return goNext
	}
	if u.hangup {
		// Acknowledged once the final status is recorded.
		run.acks = append(run.acks, u.applied)
		run.note(TranscriptEntry{Kind: EntryHangup, Text: "api"})
		if !run.answered {
			run.setStatus(CallCanceled, eventCompleted)
		}
		return goEnd
	}
	defer close(u.applied)
	where := u.src.url
	if where == "" {
		where = "inline TwiML"
	}
	run.note(TranscriptEntry{Kind: EntryRedirect, URL: u.src.url, Detail: "api update: " + where})
	return flow{kind: flowDoc, src: *u.src}
}

// sleep lets secs simulated seconds pass, one VoiceTick each, applying REST
// updates and the time limit as they come.
func (run *callRun) sleep(secs int) flow {
	for range secs {
		run.t++
		if f := run.limit(); f.kind != flowNext {
			return f
		}
		if !run.tick() {
			return goEnd
		}
		if f := run.poll(); f.kind != flowNext {
			return f
		}
	}
	return goNext
}

// advance lets secs simulated seconds pass at once (speech, audio).
func (run *callRun) advance(secs int) flow {
	run.t += secs
	return run.limit()
}

// limit ends an answered call that has run past its TimeLimit.
func (run *callRun) limit() flow {
	if !run.answered {
		return goNext
	}
	if tl := run.params().timeLimit; run.t-run.answeredAt > tl {
		run.t = run.answeredAt + tl
		run.note(TranscriptEntry{Kind: EntryHangup, Text: "time-limit"})
		return goEnd
	}
	return goNext
}

// loops reads a loop attribute: 0 repeats until the call ends (Twilio caps
// it at 1000).
func loops(v *twimlNode) int {
	n := v.intAttr("loop", 1)
	if n <= 0 {
		return 1000
	}
	return n
}

// sayDuration is how long text takes to speak, in simulated seconds.
func sayDuration(text string) int {
	return max(1, (len([]rune(text))+11)/12)
}

// playSeconds is the simulated length of one <Play>.
const playSeconds = 2

// verb runs one verb; nested is true inside <Gather>.
func (run *callRun) verb(v *twimlNode, nested bool) flow {
	switch v.name {
	case "Say":
		text, n := v.textOf(), loops(v)
		e := TranscriptEntry{Kind: EntrySay, Text: text, Language: v.attr("language", ""), Voice: v.attr("voice", "")}
		if n != 1 {
			e.Loop = n
		}
		run.note(e)
		return run.advance(sayDuration(text) * n)
	case "Play":
		n := loops(v)
		e := TranscriptEntry{Kind: EntryPlay}
		if d := v.attr("digits", ""); d != "" {
			e.Text = "digits:" + d
		} else {
			ref := v.textOf()
			if u, err := resolveURL(run.docURL, ref); err == nil {
				e.URL = u
			} else {
				e.URL, e.Detail = ref, err.Error()
			}
		}
		if n != 1 {
			e.Loop = n
		}
		run.note(e)
		return run.advance(playSeconds * n)
	case "Pause":
		length := max(v.intAttr("length", 1), 0)
		run.note(TranscriptEntry{Kind: EntryPause, Text: strconv.Itoa(length)})
		return run.sleep(length)
	}
	if nested {
		run.note(TranscriptEntry{Kind: EntrySkipped, Text: v.name, Detail: "not allowed inside <Gather>"})
		return goNext
	}
	switch v.name {
	case "Gather":
		return run.gather(v)
	case "Redirect":
		target, err := resolveURL(run.docURL, v.textOf())
		if err != nil {
			run.appError(errInvalidURL, "<Redirect>: "+err.Error(), run.docURL)
			return goEnd
		}
		method := methodOr(strings.ToUpper(v.attr("method", "POST")))
		run.note(TranscriptEntry{Kind: EntryRedirect, URL: target})
		return flow{kind: flowDoc, src: docSource{url: target, method: method}}
	case "Hangup":
		run.note(TranscriptEntry{Kind: EntryHangup, Text: "twiml"})
		return goEnd
	case "Reject":
		run.note(TranscriptEntry{Kind: EntryHangup, Text: "reject", Detail: v.attr("reason", "rejected")})
		return goEnd
	}
	run.note(TranscriptEntry{Kind: EntrySkipped, Text: v.name, Detail: "verb not simulated"})
	return goNext
}

// nextStep takes the caller's next scripted step; false when a machine
// answered or the script has no more steps (silence).
func (run *callRun) nextStep() (VoiceStep, bool) {
	if !run.human || len(run.steps) == 0 {
		return VoiceStep{}, false
	}
	s := run.steps[0]
	run.steps = run.steps[1:]
	return s, true
}

// gatherSpec is a <Gather>'s attributes with Twilio's defaults.
type gatherSpec struct {
	dtmf, speech bool
	timeout      int
	finishOnKey  string
	numDigits    int
	onEmpty      bool
	method       string
	action       string
	actionErr    error
}

// readGather reads the attributes of a <Gather>; the action defaults to the
// current document and resolves against it.
func (run *callRun) readGather(v *twimlNode) gatherSpec {
	input := strings.ToLower(v.attr("input", "dtmf"))
	g := gatherSpec{
		dtmf:        strings.Contains(input, "dtmf"),
		speech:      strings.Contains(input, "speech"),
		timeout:     v.intAttr("timeout", 5),
		finishOnKey: v.attr("finishOnKey", "#"),
		numDigits:   v.intAttr("numDigits", 0),
		onEmpty:     strings.EqualFold(v.attr("actionOnEmptyResult", "false"), "true"),
		method:      methodOr(strings.ToUpper(v.attr("method", "POST"))),
	}
	if g.timeout < 1 {
		g.timeout = 5
	}
	ref := v.attr("action", "")
	if ref == "" {
		ref = run.docURL
	}
	if ref == "" {
		g.actionErr = errors.New("<Gather> has no action and the document has no URL")
	} else {
		g.action, g.actionErr = resolveURL(run.docURL, ref)
	}
	return g
}

// gather runs a <Gather>: its nested prompts, then the caller's next step.
func (run *callRun) gather(v *twimlNode) flow {
	g := run.readGather(v)
	input := "dtmf"
	if g.speech {
		input = "speech"
		if g.dtmf {
			input = "dtmf speech"
		}
	}
	run.note(TranscriptEntry{Kind: EntryGather, URL: g.action, Text: fmt.Sprintf(
		"input=%s timeout=%d finishOnKey=%s numDigits=%d actionOnEmptyResult=%t",
		input, g.timeout, g.finishOnKey, g.numDigits, g.onEmpty)})
	for _, ch := range v.children {
		if ch.name == "" {
			continue
		}
		if f := run.verb(ch, true); f.kind != flowNext {
			return f
		}
	}
	step, ok := run.nextStep()
	switch {
	case ok && step.Hangup:
		if f := run.sleep(min(step.DelayS, g.timeout)); f.kind != flowNext {
			return f
		}
		run.note(TranscriptEntry{Kind: EntryHangup, Text: "caller", Detail: step.Note})
		return goEnd
	case ok && step.DelayS < g.timeout && g.dtmf && step.Digits != "":
		if f := run.sleep(step.DelayS); f.kind != flowNext {
			return f
		}
		got, key, done := collectDigits(step.Digits, g.finishOnKey, g.numDigits)
		run.note(TranscriptEntry{Kind: EntryDigits, Text: step.Digits, Detail: step.Note})
		if !done {
			if f := run.sleep(g.timeout); f.kind != flowNext {
				return f
			}
		}
		if got == "" {
			return run.emptyGather(g)
		}
		f := run.gatherAction(g, url.Values{"Digits": {got}, "FinishedOnKey": {key}, "msg": {"Gather End"}})
		f.src.duplicate = step.Duplicate
		return f
	case ok && step.DelayS < g.timeout && g.speech && step.Speech != "":
		if f := run.sleep(step.DelayS); f.kind != flowNext {
			return f
		}
		run.note(TranscriptEntry{Kind: EntrySpeech, Text: step.Speech, Detail: step.Note})
		if f := run.advance(sayDuration(step.Speech)); f.kind != flowNext {
			return f
		}
		return run.gatherAction(g, url.Values{"SpeechResult": {step.Speech}, "Confidence": {"0.92"}, "msg": {"Gather End"}})
	}
	if f := run.sleep(g.timeout); f.kind != flowNext {
		return f
	}
	e := TranscriptEntry{Kind: EntryTimeout, Text: strconv.Itoa(g.timeout), Detail: step.Note}
	switch {
	case ok && (step.Digits != "" || step.Speech != "") && step.DelayS >= g.timeout:
		e.Detail = strings.TrimSpace(fmt.Sprintf("caller answered after %d s, too late. %s", step.DelayS, step.Note))
	case ok && step.Digits != "" && !g.dtmf:
		e.Detail = strings.TrimSpace("keys ignored: the Gather takes speech only. " + step.Note)
	case ok && step.Speech != "" && !g.speech:
		e.Detail = strings.TrimSpace("speech ignored: the Gather takes keys only. " + step.Note)
	}
	run.note(e)
	return run.emptyGather(g)
}

// emptyGather ends a <Gather> without input: Twilio requests the action
// only with actionOnEmptyResult, else goes on with the next verb.
func (run *callRun) emptyGather(g gatherSpec) flow {
	if !g.onEmpty {
		return goNext
	}
	return run.gatherAction(g, url.Values{"msg": {"Gather End"}})
}

// gatherAction requests the Gather's action with the collected input.
func (run *callRun) gatherAction(g gatherSpec, params url.Values) flow {
	if g.actionErr != nil {
		run.appError(errInvalidURL, g.actionErr.Error(), run.docURL)
		return goEnd
	}
	return flow{kind: flowDoc, src: docSource{url: g.action, method: g.method, params: params}}
}

// collectDigits applies finishOnKey and numDigits to the keys a caller
// pressed: the digits submitted, the finish key pressed ("" if none), and
// whether input ended before the Gather timeout.
func collectDigits(keys, finishOnKey string, numDigits int) (string, string, bool) {
	var b strings.Builder
	for _, k := range keys {
		if finishOnKey != "" && strings.ContainsRune(finishOnKey, k) {
			return b.String(), string(k), true
		}
		b.WriteRune(k)
		if numDigits > 0 && b.Len() >= numDigits {
			return b.String(), "", true
		}
	}
	return b.String(), "", false
}
