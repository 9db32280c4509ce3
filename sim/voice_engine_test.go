package sim

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/twilio/twilio-go/twiml"
)

// renewalMenu is the IVR of the tests: a Cantonese prompt with a one-digit
// Gather posting to a relative action, and a confirmation document.
func renewalMenu(h *voiceHarness) {
	h.ivr.twiML("/voice",
		twiml.VoiceSay{Message: "Your parking expires in 5 minutes.", Language: "zh-HK", Voice: "Polly.Hiujin"},
		twiml.VoiceGather{NumDigits: "1", Action: "gather?step=menu", Timeout: "5", InnerElements: []twiml.Element{
			twiml.VoiceSay{Message: "Press 1 to extend.", Language: "zh-HK", Voice: "Polly.Hiujin"},
		}},
		twiml.VoiceSay{Message: "We did not get your answer."},
	)
	h.ivr.handle("/gather", func(p url.Values) (int, string) {
		msg := "You pressed " + p.Get("Digits")
		if !p.Has("Digits") {
			msg = "No answer received"
		}
		doc, _ := twiml.Voice([]twiml.Element{twiml.VoiceSay{Message: msg}, twiml.VoiceHangup{}})
		return http.StatusOK, doc
	})
}

func TestCallGatherDigitsFlow(t *testing.T) {
	h := newVoiceHarness(t, nil)
	renewalMenu(h)
	h.script(testPhone, VoiceScript{Answer: AnswerHuman, Rings: 2, Steps: []VoiceStep{{Digits: "1", DelayS: 1}}})
	p := h.withStatus(h.createParams(testPhone, "/voice?conv=c1"))
	call := h.wait(h.create(p))

	want := []TranscriptEntry{
		{T: 0, Kind: EntryStatus, Text: "initiated"},
		{T: 0, Kind: EntryStatus, Text: "ringing"},
		{T: 12, Kind: EntryStatus, Text: "in-progress"},
		{T: 12, Kind: EntrySay, Text: "Your parking expires in 5 minutes.", Language: "zh-HK", Voice: "Polly.Hiujin"},
		{T: 15, Kind: EntryGather, URL: h.ivr.srv.URL + "/gather?step=menu",
			Text: "input=dtmf timeout=5 finishOnKey=# numDigits=1 actionOnEmptyResult=false"},
		{T: 15, Kind: EntrySay, Text: "Press 1 to extend.", Language: "zh-HK", Voice: "Polly.Hiujin"},
		{T: 18, Kind: EntryDigits, Text: "1"},
		{T: 18, Kind: EntrySay, Text: "You pressed 1"},
		{T: 20, Kind: EntryHangup, Text: "twiml"},
		{T: 20, Kind: EntryStatus, Text: "completed"},
	}
	if !slices.Equal(call.Transcript, want) {
		t.Fatalf("transcript\n got %+v\nwant %+v", call.Transcript, want)
	}
	if call.Status != CallCompleted || call.DurationS != 8 || call.Documents != 2 {
		t.Fatalf("status %s duration %d documents %d, want completed 8 2", call.Status, call.DurationS, call.Documents)
	}

	first, action := h.ivr.hitsFor("/voice"), h.ivr.hitsFor("/gather")
	if len(first) != 1 || len(action) != 1 {
		t.Fatalf("requests: %d to /voice, %d to /gather, want 1 each", len(first), len(action))
	}
	for _, hit := range []ivrHit{first[0], action[0]} {
		if !hit.sigValid || hit.method != http.MethodPost {
			t.Errorf("%s %s: signature valid %v", hit.method, hit.url, hit.sigValid)
		}
		for k, v := range map[string]string{"CallSid": call.Sid, "AccountSid": h.cfg.AccountSID, "From": testPlatform,
			"To": testPhone, "CallStatus": "in-progress", "Direction": "outbound-api", "ApiVersion": "2010-04-01"} {
			if got := hit.params.Get(k); got != v {
				t.Errorf("%s %s = %q, want %q", hit.path, k, got, v)
			}
		}
		if hit.params.Has("AnsweredBy") {
			t.Errorf("AnsweredBy sent without MachineDetection")
		}
	}
	if first[0].url != h.ivr.srv.URL+"/voice?conv=c1" || first[0].params.Has("Digits") {
		t.Errorf("first request %s %v", first[0].url, first[0].params)
	}
	if action[0].params.Get("Digits") != "1" || action[0].params.Get("FinishedOnKey") != "" {
		t.Errorf("action params %v, want Digits=1", action[0].params)
	}

	cbs := h.callbacks(call.Sid)
	if got := callStatuses(cbs); !slices.Equal(got, []string{"initiated", "ringing", "in-progress", "completed"}) {
		t.Fatalf("callbacks %v", got)
	}
	for i, cb := range cbs {
		if !cb.sigValid || cb.form.Get("SequenceNumber") != strconv.Itoa(i) ||
			cb.form.Get("CallbackSource") != "call-progress-events" || cb.form.Get("Timestamp") == "" ||
			cb.path != "/twilio/voice/status" {
			t.Errorf("callback %d: %s %v (signature %v)", i, cb.url, cb.form, cb.sigValid)
		}
		if (cb.form.Get("CallStatus") == "completed") != cb.form.Has("CallDuration") {
			t.Errorf("callback %d: CallDuration only on completed: %v", i, cb.form)
		}
	}
	if got := cbs[3].form.Get("CallDuration"); got != "8" {
		t.Errorf("completed CallDuration = %s, want 8", got)
	}
}

func TestCallGatherKeys(t *testing.T) {
	tests := []struct {
		name       string
		gather     twiml.VoiceGather
		step       VoiceStep
		wantDigits string // posted Digits; "-" when the action is not requested
		wantKey    string
		wantEntry  string
	}{
		{"finish key", twiml.VoiceGather{Action: "/gather"}, VoiceStep{Digits: "1234#9"}, "1234", "#", "digits:1234#9"},
		{"num digits cuts", twiml.VoiceGather{Action: "/gather", NumDigits: "2"}, VoiceStep{Digits: "123"}, "12", "", "digits:123"},
		{"partial then timeout", twiml.VoiceGather{Action: "/gather", NumDigits: "4"}, VoiceStep{Digits: "12"}, "12", "", "digits:12"},
		{"custom finish key", twiml.VoiceGather{Action: "/gather", FinishOnKey: "*"}, VoiceStep{Digits: "9*"}, "9", "*", "digits:9*"},
		{"too late", twiml.VoiceGather{Action: "/gather", Timeout: "3"}, VoiceStep{Digits: "1", DelayS: 3}, "-", "", "timeout:3"},
		{"speech only gather ignores keys", twiml.VoiceGather{Action: "/gather", Input: "speech"}, VoiceStep{Digits: "1"}, "-", "", "timeout:5"},
		{"finish key alone is empty", twiml.VoiceGather{Action: "/gather"}, VoiceStep{Digits: "#"}, "-", "", "digits:#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newVoiceHarness(t, nil)
			h.ivr.twiML("/voice", tt.gather)
			h.ivr.twiML("/gather", twiml.VoiceHangup{})
			h.script(testPhone, VoiceScript{Steps: []VoiceStep{tt.step}})
			call := h.wait(h.create(h.createParams(testPhone, "/voice")))
			if !slices.Contains(shape(call), tt.wantEntry) {
				t.Errorf("transcript %q lacks %q", shape(call), tt.wantEntry)
			}
			hits := h.ivr.hitsFor("/gather")
			if tt.wantDigits == "-" {
				if len(hits) != 0 {
					t.Fatalf("action requested without input: %v", hits[0].params)
				}
				return
			}
			if len(hits) != 1 || hits[0].params.Get("Digits") != tt.wantDigits || hits[0].params.Get("FinishedOnKey") != tt.wantKey {
				t.Fatalf("action requests %+v, want Digits=%s FinishedOnKey=%s", hits, tt.wantDigits, tt.wantKey)
			}
		})
	}
}

func TestCallGatherNoInput(t *testing.T) {
	tests := []struct {
		name    string
		onEmpty string
		tail    []string
		action  bool
	}{
		{"falls through to the next verb", "", []string{"timeout:5", "say:We did not get your answer.", "status:completed"}, false},
		{"actionOnEmptyResult posts the action", "true", []string{"timeout:5", "say:No answer received", "hangup:twiml", "status:completed"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newVoiceHarness(t, nil)
			h.ivr.twiML("/voice",
				twiml.VoiceGather{NumDigits: "1", Action: "/gather", ActionOnEmptyResult: tt.onEmpty,
					InnerElements: []twiml.Element{twiml.VoiceSay{Message: "Press 1"}}},
				twiml.VoiceSay{Message: "We did not get your answer."})
			renewalMenuAction(h)
			h.script(testPhone, VoiceScript{Steps: []VoiceStep{{Note: "say nothing"}}})
			call := h.wait(h.create(h.createParams(testPhone, "/voice")))
			got := shape(call)
			if len(got) < len(tt.tail) || !slices.Equal(got[len(got)-len(tt.tail):], tt.tail) {
				t.Fatalf("transcript %q, want it to end with %q", got, tt.tail)
			}
			hits := h.ivr.hitsFor("/gather")
			if (len(hits) == 1) != tt.action {
				t.Fatalf("%d action requests, want action=%v", len(hits), tt.action)
			}
			if tt.action && (hits[0].params.Has("Digits") || !hits[0].sigValid) {
				t.Fatalf("empty-result action %v (signature %v), want no Digits", hits[0].params, hits[0].sigValid)
			}
			if call.Status != CallCompleted {
				t.Fatalf("status %s", call.Status)
			}
		})
	}
}

// renewalMenuAction installs only the /gather document of renewalMenu.
func renewalMenuAction(h *voiceHarness) {
	h.ivr.handle("/gather", func(p url.Values) (int, string) {
		msg := "You pressed " + p.Get("Digits")
		if !p.Has("Digits") {
			msg = "No answer received"
		}
		doc, _ := twiml.Voice([]twiml.Element{twiml.VoiceSay{Message: msg}, twiml.VoiceHangup{}})
		return http.StatusOK, doc
	})
}

func TestCallHandsetHangsUpAtGather(t *testing.T) {
	h := newVoiceHarness(t, nil)
	renewalMenu(h)
	h.script(testPhone, VoiceScript{Steps: []VoiceStep{{Hangup: true, DelayS: 2}}})
	call := h.wait(h.create(h.createParams(testPhone, "/voice")))
	got := shape(call)
	if want := []string{"hangup:caller", "status:completed"}; !slices.Equal(got[len(got)-2:], want) {
		t.Fatalf("transcript %q, want a caller hang-up", got)
	}
	if len(h.ivr.hitsFor("/gather")) != 0 || call.Status != CallCompleted {
		t.Fatalf("status %s, %d action requests", call.Status, len(h.ivr.hitsFor("/gather")))
	}
}

func TestCallOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		script     VoiceScript
		amd        string
		timeout    int
		callbacks  []string
		fetched    bool
		answeredBy string
		duration   int
	}{
		{"busy", VoiceScript{Answer: AnswerBusy, Rings: 2}, "", 0, []string{"initiated", "ringing", "busy"}, false, "", 0},
		{"no answer within timeout", VoiceScript{Answer: AnswerNoAnswer}, "", 12, []string{"initiated", "ringing", "no-answer"}, false, "", 0},
		{"answers too late", VoiceScript{Answer: AnswerHuman, Rings: 5}, "", 20, []string{"initiated", "ringing", "no-answer"}, false, "", 0},
		{"failed", VoiceScript{Answer: AnswerFailed}, "", 0, []string{"initiated", "failed"}, false, "", 0},
		{"voicemail detect message end", VoiceScript{Answer: AnswerVoicemail}, "DetectMessageEnd", 0,
			[]string{"initiated", "ringing", "in-progress", "completed"}, true, "machine_end_beep", 9},
		{"voicemail enable", VoiceScript{Answer: AnswerVoicemail}, "Enable", 0,
			[]string{"initiated", "ringing", "in-progress", "completed"}, true, "machine_start", 1},
		{"human with detection", VoiceScript{Answer: AnswerHuman}, "Enable", 0,
			[]string{"initiated", "ringing", "in-progress", "completed"}, true, "human", 1},
		{"voicemail without detection", VoiceScript{Answer: AnswerVoicemail}, "", 0,
			[]string{"initiated", "ringing", "in-progress", "completed"}, true, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newVoiceHarness(t, nil)
			h.ivr.twiML("/voice", twiml.VoiceSay{Message: "Hi"}, twiml.VoiceHangup{})
			h.script(testPhone, tt.script)
			p := h.withStatus(h.createParams(testPhone, "/voice"))
			if tt.amd != "" {
				p.SetMachineDetection(tt.amd)
			}
			if tt.timeout > 0 {
				p.SetTimeout(tt.timeout)
			}
			call := h.wait(h.create(p))
			cbs := h.callbacks(call.Sid)
			if got := callStatuses(cbs); !slices.Equal(got, tt.callbacks) {
				t.Fatalf("callbacks %v, want %v", got, tt.callbacks)
			}
			last := cbs[len(cbs)-1]
			if call.Status != tt.callbacks[len(tt.callbacks)-1] || last.form.Get("CallDuration") != strconv.Itoa(tt.duration) {
				t.Fatalf("status %s CallDuration %q, want %s %d", call.Status, last.form.Get("CallDuration"),
					tt.callbacks[len(tt.callbacks)-1], tt.duration)
			}
			hits := h.ivr.hitsFor("/voice")
			if (len(hits) > 0) != tt.fetched {
				t.Fatalf("%d TwiML requests, want fetched=%v", len(hits), tt.fetched)
			}
			if tt.fetched && hits[0].params.Get("AnsweredBy") != tt.answeredBy {
				t.Fatalf("AnsweredBy = %q, want %q", hits[0].params.Get("AnsweredBy"), tt.answeredBy)
			}
			if call.AnsweredBy != tt.answeredBy || last.form.Get("AnsweredBy") != tt.answeredBy {
				t.Fatalf("call AnsweredBy %q, callback %q, want %q", call.AnsweredBy, last.form.Get("AnsweredBy"), tt.answeredBy)
			}
			if tt.timeout > 0 && tt.callbacks[len(tt.callbacks)-1] == CallNoAnswer && call.EndTime.Sub(call.DateCreated).Seconds() != float64(tt.timeout) {
				t.Fatalf("no-answer after %v, want the %d s timeout", call.EndTime.Sub(call.DateCreated), tt.timeout)
			}
		})
	}
}

func TestCallVoicemailNeverKeysDigits(t *testing.T) {
	h := newVoiceHarness(t, nil)
	renewalMenu(h)
	h.script(testPhone, VoiceScript{Answer: AnswerVoicemail, Steps: []VoiceStep{{Digits: "1"}}})
	call := h.wait(h.create(h.createParams(testPhone, "/voice")))
	if slices.Contains(shape(call), "digits:1") || len(h.ivr.hitsFor("/gather")) != 0 {
		t.Fatalf("an answering machine pressed keys: %q", shape(call))
	}
}

func TestCallAsyncAMD(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.twiML("/voice", twiml.VoiceHangup{})
	h.script(testPhone, VoiceScript{Answer: AnswerVoicemail})
	p := h.createParams(testPhone, "/voice")
	p.SetMachineDetection("DetectMessageEnd")
	p.SetAsyncAmd("true")
	p.SetAsyncAmdStatusCallback(h.status.srv.URL + "/twilio/voice/amd")
	call := h.wait(h.create(p))
	if hits := h.ivr.hitsFor("/voice"); len(hits) != 1 || hits[0].params.Has("AnsweredBy") {
		t.Fatalf("async AMD: the TwiML request must not carry AnsweredBy: %+v", hits)
	}
	cbs := h.callbacks(call.Sid)
	var amd []hit
	for _, cb := range cbs {
		if cb.path == "/twilio/voice/amd" {
			amd = append(amd, cb)
		}
	}
	if len(amd) != 1 || amd[0].form.Get("AnsweredBy") != "machine_end_beep" || !amd[0].sigValid {
		t.Fatalf("AsyncAmdStatusCallback hits %+v", amd)
	}
}

func TestCallCalleeDevice(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.twiML("/voice", twiml.VoiceHangup{})
	meter := "+85261234567"
	var mu sync.Mutex
	var seen [][2]string
	h.carrier.SetCallee(func(ctx context.Context, to, from string) (string, bool) {
		mu.Lock()
		seen = append(seen, [2]string{to, from})
		mu.Unlock()
		if to != meter {
			return "", false
		}
		return "busy", true
	})
	sid := h.create(h.withStatus(h.createParams(meter, "/voice")))
	call := h.wait(sid)
	if got := callStatuses(h.callbacks(sid)); !slices.Equal(got, []string{"initiated", "ringing", "busy"}) {
		t.Fatalf("callbacks %v, want initiated ringing busy", got)
	}
	if last := call.Transcript[len(call.Transcript)-1]; call.Status != CallBusy || len(h.ivr.hitsFor("/voice")) != 0 ||
		last.Text != CallBusy || last.Detail != "device callee: busy" {
		t.Fatalf("device-rejected call: status %s, transcript %q", call.Status, shape(call))
	}
	// A number the device hook does not handle follows its handset script.
	other := h.wait(h.create(h.createParams(testPhone, "/voice")))
	if other.Status != CallCompleted {
		t.Fatalf("unhandled number status %s", other.Status)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := [][2]string{{meter, testPlatform}, {testPhone, testPlatform}}; !slices.Equal(seen, want) {
		t.Fatalf("callee saw %v, want %v", seen, want)
	}
}

func TestCallWebhookErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		code   int
	}{
		{"500", http.StatusInternalServerError, "", errHTTPRetrieval},
		{"404", http.StatusNotFound, "<Response/>", errHTTPRetrieval},
		{"not xml", http.StatusOK, "hello", errDocumentParse},
		{"empty", http.StatusOK, "", errDocumentParse},
		{"wrong root", http.StatusOK, "<Reply><Say>x</Say></Reply>", errDocumentParse},
		{"unknown verb", http.StatusOK, "<Response><Sya>x</Sya></Response>", errSchemaValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newVoiceHarness(t, nil)
			h.ivr.handle("/voice", func(url.Values) (int, string) { return tt.status, tt.body })
			call := h.wait(h.create(h.withStatus(h.createParams(testPhone, "/voice"))))
			n := len(call.Transcript)
			e := call.Transcript[n-2]
			if e.Kind != EntryError || e.Text != ApplicationErrorText || e.Code != tt.code || call.Status != CallCompleted {
				t.Fatalf("transcript %+v, want an application error %d then completed", call.Transcript, tt.code)
			}
			if got := callStatuses(h.callbacks(call.Sid)); !slices.Equal(got, []string{"initiated", "ringing", "in-progress", "completed"}) {
				t.Fatalf("callbacks %v", got)
			}
		})
	}
}

func TestCallFallbackURL(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.handle("/voice", func(url.Values) (int, string) { return http.StatusBadGateway, "" })
	h.ivr.twiML("/fallback", twiml.VoiceSay{Message: "Sorry, try later"}, twiml.VoiceHangup{})
	p := h.createParams(testPhone, "/voice")
	p.SetFallbackUrl(h.ivr.srv.URL + "/fallback")
	call := h.wait(h.create(p))
	fb := h.ivr.hitsFor("/fallback")
	if len(fb) != 1 || fb[0].params.Get("ErrorCode") != "11200" || fb[0].params.Get("ErrorUrl") != h.ivr.srv.URL+"/voice" {
		t.Fatalf("fallback requests %+v", fb)
	}
	if !slices.Contains(shape(call), "say:Sorry, try later") || slices.Contains(shape(call), "error:"+ApplicationErrorText) {
		t.Fatalf("transcript %q", shape(call))
	}
}

func TestCallDocumentCapAndTimeLimit(t *testing.T) {
	t.Run("redirect loop", func(t *testing.T) {
		h := newVoiceHarness(t, func(c *Config) { c.VoiceMaxDocuments = 5 })
		h.ivr.twiML("/voice", twiml.VoiceSay{Message: "Again"}, twiml.VoiceRedirect{Url: "voice"})
		call := h.wait(h.create(h.createParams(testPhone, "/voice")))
		if len(h.ivr.hitsFor("/voice")) != 5 || call.Documents != 5 || call.Status != CallCompleted {
			t.Fatalf("%d requests, documents %d, status %s; want the loop cut after 5", len(h.ivr.hitsFor("/voice")),
				call.Documents, call.Status)
		}
		if e := call.Transcript[len(call.Transcript)-2]; e.Kind != EntryError || e.Detail == "" {
			t.Fatalf("last entries %+v", call.Transcript[len(call.Transcript)-3:])
		}
	})
	t.Run("time limit", func(t *testing.T) {
		h := newVoiceHarness(t, nil)
		h.ivr.twiML("/voice", twiml.VoiceSay{Message: "Hold", Loop: "0"}, twiml.VoicePause{Length: "30"})
		p := h.createParams(testPhone, "/voice")
		p.SetTimeLimit(10)
		call := h.wait(h.create(p))
		got := shape(call)
		if want := []string{"hangup:time-limit", "status:completed"}; !slices.Equal(got[len(got)-2:], want) || call.DurationS != 10 {
			t.Fatalf("transcript %q duration %d, want the call cut at 10 s", got, call.DurationS)
		}
	})
}

func TestCallGETWebhook(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.twiML("/voice", twiml.VoiceGather{Method: "GET", Action: "/gather?x=1", NumDigits: "1"})
	h.ivr.twiML("/gather", twiml.VoiceHangup{})
	h.script(testPhone, VoiceScript{Steps: []VoiceStep{{Digits: "3"}}})
	p := h.createParams(testPhone, "/voice?tenant=a")
	p.SetMethod("GET")
	h.wait(h.create(p))
	for _, path := range []string{"/voice", "/gather"} {
		hits := h.ivr.hitsFor(path)
		if len(hits) != 1 || hits[0].method != http.MethodGet || !hits[0].sigValid || hits[0].params.Get("CallSid") == "" {
			t.Fatalf("%s: %+v, want one signed GET with the parameters in the query", path, hits)
		}
	}
	if g := h.ivr.hitsFor("/gather")[0].params; g.Get("Digits") != "3" || g.Get("x") != "1" {
		t.Fatalf("gather query %v", g)
	}
}
