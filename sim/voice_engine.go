package sim

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ringSeconds is the simulated length of one ring cycle.
const ringSeconds = 6

// callRun is the engine's state while one call runs on its goroutine.
type callRun struct {
	c          *Carrier
	vs         *voiceState
	r          *callRecord
	base       time.Time // carrier clock when the call was placed
	t          int       // simulated seconds since then
	answered   bool
	answeredAt int
	human      bool // a person is on the line: Gathers take the steps
	steps      []VoiceStep
	docs       int
	docURL     string // the current document's URL, for relative URLs
	seqNo      int    // next status callback SequenceNumber
	cbq        chan voiceCallback
	acks       []chan struct{} // REST hang-ups to acknowledge once the call ended
	detail     string          // Detail of the next answer or final status entry
}

// newRun prepares the engine of a stored call.
func (c *Carrier) newRun(vs *voiceState, r *callRecord) *callRun {
	return &callRun{c: c, vs: vs, r: r, base: r.call.DateCreated, cbq: make(chan voiceCallback, 16)}
}

// params returns the call's parameters under the lock (status callback
// settings change with REST updates).
func (run *callRun) params() callParams {
	run.vs.mu.Lock()
	defer run.vs.mu.Unlock()
	return run.r.params
}

// at is the simulated wall time of simulated second t.
func (run *callRun) at() time.Time { return run.base.Add(time.Duration(run.t) * time.Second) }

// snapshot returns the call under the lock.
func (run *callRun) snapshot() Call {
	run.vs.mu.Lock()
	defer run.vs.mu.Unlock()
	return run.r.call.clone()
}

// note appends a transcript entry stamped with the current simulated second.
func (run *callRun) note(e TranscriptEntry) {
	e.T = run.t
	run.vs.mu.Lock()
	run.r.call.Transcript = append(run.r.call.Transcript, e)
	run.r.call.DateUpdated = run.at()
	run.vs.mu.Unlock()
}

// setStatus records a call status change and posts the status callback of
// event when it was requested.
func (run *callRun) setStatus(status, event string) {
	now := run.at()
	run.vs.mu.Lock()
	call := &run.r.call
	call.Status = status
	call.DateUpdated = now
	entry := TranscriptEntry{T: run.t, Kind: EntryStatus, Text: status}
	if status == CallInProgress || terminal(status) {
		entry.Detail, run.detail = run.detail, ""
	}
	call.Transcript = append(call.Transcript, entry)
	if status != CallQueued && call.StartTime == nil {
		call.StartTime = &now
	}
	if terminal(status) {
		call.EndTime = &now
		if run.answered {
			call.DurationS = run.t - run.answeredAt
		}
	}
	snap := call.clone()
	p := run.r.params
	run.vs.mu.Unlock()
	run.c.log.Info("sim call status", "sid", snap.Sid, "to", maskNumber(snap.To), "status", status, "t", run.t)
	if p.statusCallback == "" || !p.events[event] {
		return
	}
	form := run.c.voiceParams(snap, status)
	form.Set("CallbackSource", "call-progress-events")
	form.Set("SequenceNumber", strconv.Itoa(run.seqNo))
	form.Set("Timestamp", now.Format(twilioDate))
	run.seqNo++
	if event == eventCompleted {
		form.Set("CallDuration", strconv.Itoa(snap.DurationS))
		form.Set("Duration", strconv.Itoa((snap.DurationS+59)/60))
		form.Set("SipResponseCode", sipCode(status))
	}
	run.cbq <- voiceCallback{url: p.statusCallback, method: p.statusCallbackMethod, status: status, form: form}
}

// sipCode is the SIP response code Twilio reports for a final status.
func sipCode(status string) string {
	switch status {
	case CallBusy:
		return "486"
	case CallNoAnswer:
		return "487"
	case CallFailed:
		return "404"
	case CallCanceled:
		return "487"
	}
	return "200"
}

// takePending returns and clears a pending REST update.
func (run *callRun) takePending() *callUpdate {
	run.vs.mu.Lock()
	defer run.vs.mu.Unlock()
	u := run.r.pending
	run.r.pending = nil
	return u
}

// tick waits one VoiceTick of real time; false when the carrier closed.
func (run *callRun) tick() bool {
	t := time.NewTimer(run.c.cfg.VoiceTick)
	defer t.Stop()
	select {
	case <-t.C:
	case <-run.r.wake:
	case <-run.c.ctx.Done():
		return false
	}
	return true
}

// start runs the call's engine and its callback dispatcher on the carrier's
// background goroutines.
func (c *Carrier) start(vs *voiceState, r *callRecord, body func(run *callRun)) {
	c.background(func() {
		run := c.newRun(vs, r)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.dispatchCallbacks(vs, r, run.cbq)
		}()
		body(run)
		for _, a := range run.acks {
			close(a)
		}
		close(run.cbq)
		wg.Wait()
		vs.mu.Lock()
		r.call.Ended = true
		if u := r.pending; u != nil {
			r.pending = nil
			close(u.applied)
		}
		vs.mu.Unlock()
		close(r.done)
	})
}

// runOutbound is the life of a call placed through the Calls API.
func (run *callRun) runOutbound() {
	call := run.snapshot()
	p := run.params()
	run.note(TranscriptEntry{Kind: EntryStatus, Text: eventInitiated})
	run.vs.mu.Lock()
	start := run.at()
	run.r.call.StartTime = &start
	run.vs.mu.Unlock()
	run.emitInitiated()

	outcome, script := run.decide(call)
	switch outcome {
	case CallFailed:
		run.setStatus(CallFailed, eventCompleted)
		return
	case CallBusy, CallNoAnswer:
	default:
		outcome = ""
	}
	rings := script.Rings
	maxRings := (p.timeout + ringSeconds - 1) / ringSeconds
	switch {
	case outcome == CallNoAnswer:
		rings = maxRings
	case outcome == CallBusy:
		rings = min(max(rings, 1), maxRings)
	case rings > maxRings || rings*ringSeconds > p.timeout:
		rings, outcome = maxRings, CallNoAnswer
	}
	for i := range rings {
		if i == 0 {
			run.setStatus(CallRinging, eventRinging)
		}
		run.t = min(run.t+ringSeconds, p.timeout)
		if !run.tick() {
			run.setStatus(CallCanceled, eventCompleted)
			return
		}
		if u := run.takePending(); u != nil {
			run.note(TranscriptEntry{Kind: EntryHangup, Text: "api"})
			run.setStatus(CallCanceled, eventCompleted)
			close(u.applied)
			return
		}
	}
	if outcome != "" {
		run.setStatus(outcome, eventCompleted)
		return
	}

	run.human = script.Answer == AnswerHuman
	run.steps = script.Steps
	// The call is answered (and billed) from the pick-up; synchronous
	// detection of a machine's message end holds the TwiML request for the
	// greeting's length.
	run.answered, run.answeredAt = true, run.t
	answeredBy := ""
	if p.machineDetection != "" {
		answeredBy = amdResult(p.machineDetection, script)
		if p.machineDetection == amdDetectMessageEnd && script.Answer == AnswerVoicemail && !p.asyncAMD {
			run.t += machineGreetingSeconds
		}
	}
	if answeredBy != "" && !p.asyncAMD {
		run.vs.mu.Lock()
		run.r.call.AnsweredBy = answeredBy
		run.vs.mu.Unlock()
	}
	if answeredBy != "" {
		run.detail = "answered_by=" + answeredBy
	}
	run.setStatus(CallInProgress, eventAnswered)
	if answeredBy != "" && p.asyncAMD && p.asyncAMDCallback != "" {
		run.postAsyncAMD(answeredBy)
	}
	first := docSource{url: p.url, method: p.method, twiml: p.twiml}
	run.session(first, CallInProgress)
	run.setStatus(CallCompleted, eventCompleted)
}

// emitInitiated posts the "initiated" callback when it was requested.
func (run *callRun) emitInitiated() {
	run.vs.mu.Lock()
	snap := run.r.call.clone()
	p := run.r.params
	run.vs.mu.Unlock()
	if p.statusCallback == "" || !p.events[eventInitiated] {
		return
	}
	form := run.c.voiceParams(snap, eventInitiated)
	form.Set("CallbackSource", "call-progress-events")
	form.Set("SequenceNumber", strconv.Itoa(run.seqNo))
	form.Set("Timestamp", run.at().Format(twilioDate))
	run.seqNo++
	run.cbq <- voiceCallback{url: p.statusCallback, method: p.statusCallbackMethod, status: eventInitiated, form: form}
}

// postAsyncAMD queues the AsyncAmdStatusCallback with the detection result.
func (run *callRun) postAsyncAMD(answeredBy string) {
	call := run.snapshot()
	p := run.params()
	form := url2(map[string]string{
		"CallSid":                  call.Sid,
		"AccountSid":               call.AccountSid,
		"AnsweredBy":               answeredBy,
		"MachineDetectionDuration": strconv.Itoa(amdDurationMS(answeredBy)),
	})
	run.cbq <- voiceCallback{url: p.asyncAMDCallback, method: p.asyncAMDCallbackMethod, status: "amd:" + answeredBy, form: form}
}

// decide asks the device callee, then the handset script, how the callee
// answers. outcome is a final status for a call that is never answered.
func (run *callRun) decide(call Call) (string, VoiceScript) {
	run.vs.mu.Lock()
	callee := run.vs.callee
	script, ok := run.vs.scripts[call.To]
	run.vs.mu.Unlock()
	if !ok {
		script = defaultScript()
	}
	if callee != nil {
		ctx, cancel := context.WithCancel(run.c.ctx)
		outcome, handled := callee(ctx, call.To, call.From)
		cancel()
		if handled {
			switch outcome {
			case CallBusy, CallNoAnswer, CallFailed:
			default:
				run.c.log.Warn("sim callee outcome unknown, call failed", "sid", call.Sid, "outcome", outcome)
				outcome = CallFailed
			}
			run.detail = "device callee: " + outcome
			return outcome, VoiceScript{Answer: VoiceAnswer(outcome), Rings: 1}
		}
	}
	switch script.Answer {
	case AnswerBusy:
		return CallBusy, script
	case AnswerNoAnswer:
		return CallNoAnswer, script
	case AnswerFailed:
		return CallFailed, script
	}
	return "", script
}

// Answering-machine detection.
const (
	amdEnable              = "Enable"
	amdDetectMessageEnd    = "DetectMessageEnd"
	machineGreetingSeconds = 8
)

// amdResult is the AnsweredBy value detection reports for a handset.
func amdResult(mode string, s VoiceScript) string {
	if s.AnsweredBy != "" {
		return s.AnsweredBy
	}
	if s.Answer == AnswerVoicemail {
		if mode == amdDetectMessageEnd {
			return "machine_end_beep"
		}
		return "machine_start"
	}
	return "human"
}

// amdDurationMS is a plausible MachineDetectionDuration.
func amdDurationMS(answeredBy string) int {
	if answeredBy == "human" {
		return 2400
	}
	return 4100
}

// runInbound is the life of a call a handset places to a platform number:
// Twilio fetches the webhook while the call rings and answers it unless the
// first verb is <Reject>.
func (run *callRun) runInbound() {
	run.human = true
	run.steps = run.r.steps
	run.setStatus(CallRinging, eventRinging)
	p := run.params()
	first := docSource{url: p.url, method: p.method}
	run.session(first, CallRinging)
	if run.answered {
		run.setStatus(CallCompleted, eventCompleted)
	}
}

// answer marks the call answered (in-progress) now.
func (run *callRun) answer() {
	if run.answered {
		return
	}
	run.answered, run.answeredAt = true, run.t
	run.setStatus(CallInProgress, eventAnswered)
}

// Status callback events.
const (
	eventInitiated = "initiated"
	eventRinging   = "ringing"
	eventAnswered  = "answered"
	eventCompleted = "completed"
)

// url2 builds url.Values from single values.
func url2(m map[string]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = []string{v}
	}
	return out
}

// methodOr returns m upper-cased when it is GET or POST, else POST.
func methodOr(m string) string {
	if m == http.MethodGet || m == "get" {
		return http.MethodGet
	}
	return http.MethodPost
}
