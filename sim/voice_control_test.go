package sim

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/twilio/twilio-go/twiml"
)

func TestInboundCallWithheldCallerID(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.handle("/voice", func(p url.Values) (int, string) {
		doc, _ := twiml.Voice([]twiml.Element{
			twiml.VoiceGather{NumDigits: "1", Action: "/menu", InnerElements: []twiml.Element{
				twiml.VoiceSay{Message: "Enter your PIN", Language: "zh-CN", Voice: "Polly.Zhiyu"}}},
		})
		return http.StatusOK, doc
	})
	h.ivr.twiML("/menu", twiml.VoiceSay{Message: "Thank you"}, twiml.VoiceHangup{})

	var call Call
	status := h.control("POST", "/sim/v1/phones/"+url.PathEscape(testPhone)+"/call?wait=5s",
		map[string]any{"to": testPlatform2, "from_withheld": true, "steps": []map[string]any{{"digits": "7"}}}, &call)
	if status != http.StatusCreated || !call.Ended || call.Status != CallCompleted {
		t.Fatalf("POST call = %d %+v, want 201 and an ended, completed call", status, call)
	}
	if call.Direction != "inbound" || call.From != "anonymous" || call.To != testPlatform2 {
		t.Fatalf("call %s from %s to %s", call.Direction, call.From, call.To)
	}
	want := []string{"status:ringing", "status:in-progress",
		"gather:input=dtmf timeout=5 finishOnKey=# numDigits=1 actionOnEmptyResult=false",
		"say:Enter your PIN", "digits:7", "say:Thank you", "hangup:twiml", "status:completed"}
	if got := shape(call); !slices.Equal(got, want) {
		t.Fatalf("transcript\n got %q\nwant %q", got, want)
	}
	first, menu := h.ivr.hitsFor("/voice"), h.ivr.hitsFor("/menu")
	if len(first) != 1 || len(menu) != 1 {
		t.Fatalf("%d /voice and %d /menu requests", len(first), len(menu))
	}
	for _, c := range []struct {
		hit    ivrHit
		status string
	}{{first[0], "ringing"}, {menu[0], "in-progress"}} {
		p := c.hit.params
		if !c.hit.sigValid || p.Get("From") != "anonymous" || p.Get("Caller") != "anonymous" ||
			p.Get("Direction") != "inbound" || p.Get("To") != testPlatform2 || p.Get("CallStatus") != c.status {
			t.Errorf("%s: %v (signature %v), want From anonymous, CallStatus %s", c.hit.path, p, c.hit.sigValid, c.status)
		}
	}
	if menu[0].params.Get("Digits") != "7" {
		t.Errorf("menu Digits = %q", menu[0].params.Get("Digits"))
	}
	if got := callStatuses(h.callbacks(call.Sid)); !slices.Equal(got, []string{"completed"}) {
		t.Errorf("inbound status callbacks %v, want only completed", got)
	}

	// The call is listed under the real caller's handset.
	var calls []Call
	if s := h.control("GET", "/sim/v1/phones/"+url.PathEscape(testPhone)+"/calls", nil, &calls); s != 200 ||
		len(calls) != 1 || calls[0].Sid != call.Sid {
		t.Fatalf("phone calls = %d %+v", s, calls)
	}
}

func TestInboundCallRejected(t *testing.T) {
	tests := []struct {
		reason string
		want   string
	}{
		{"busy", CallBusy},
		{"", CallNoAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			h := newVoiceHarness(t, nil)
			h.ivr.twiML("/voice", twiml.VoiceReject{Reason: tt.reason}, twiml.VoiceSay{Message: "unreachable"})
			placed, err := h.carrier.CallPlatform(testPhone, InboundCall{})
			if err != nil {
				t.Fatal(err)
			}
			call := h.wait(placed.Sid)
			if call.Status != tt.want || call.DurationS != 0 || slices.Contains(shape(call), "status:in-progress") ||
				slices.Contains(shape(call), "say:unreachable") {
				t.Fatalf("status %s transcript %q, want %s and never answered", call.Status, shape(call), tt.want)
			}
		})
	}
}

func TestVoiceControlRoutes(t *testing.T) {
	h := newVoiceHarness(t, nil)
	h.ivr.twiML("/voice", twiml.VoicePause{Length: "2"}, twiml.VoiceHangup{})
	path := "/sim/v1/phones/" + url.PathEscape(testPhone)

	var s VoiceScript
	if code := h.control("GET", path+"/voice", nil, &s); code != 200 || s.Answer != AnswerHuman || s.Rings != 1 {
		t.Fatalf("default script = %d %+v", code, s)
	}
	in := map[string]any{"answer": "voicemail", "rings": 3, "steps": []map[string]any{{"digits": "1", "delay_s": 1}, {"hangup": true}}}
	if code := h.control("POST", path+"/voice", in, &s); code != 200 || s.Answer != AnswerVoicemail || len(s.Steps) != 2 {
		t.Fatalf("set script = %d %+v", code, s)
	}
	if got := h.carrier.VoiceScriptOf(testPhone); got.Rings != 3 || !got.Steps[1].Hangup {
		t.Fatalf("stored script %+v", got)
	}

	bad := []struct {
		name string
		body map[string]any
	}{
		{"unknown answer", map[string]any{"answer": "maybe"}},
		{"negative delay", map[string]any{"steps": []map[string]any{{"delay_s": -1}}}},
		{"not a key", map[string]any{"steps": []map[string]any{{"digits": "1a"}}}},
		{"unknown answered_by", map[string]any{"answered_by": "robot"}},
	}
	for _, b := range bad {
		var e controlError
		if code := h.control("POST", path+"/voice", b.body, &e); code != 400 || e.Error == "" {
			t.Errorf("%s: %d %+v, want 400", b.name, code, e)
		}
	}
	var e controlError
	if code := h.control("POST", "/sim/v1/phones/"+url.PathEscape(testPhone)+"/call", map[string]any{"to": "+85258009999"}, &e); code != 400 {
		t.Errorf("call to a non-platform number = %d", code)
	}
	if code := h.control("GET", "/sim/v1/calls/CA0000", nil, &e); code != 404 {
		t.Errorf("unknown call = %d", code)
	}

	h.script(testPhone, VoiceScript{})
	sid := h.create(h.createParams(testPhone, "/voice"))
	var call Call
	if code := h.control("GET", "/sim/v1/calls/"+sid+"?wait=5s", nil, &call); code != 200 || !call.Ended || call.Status != CallCompleted {
		t.Fatalf("wait for call = %d %+v", code, call)
	}
	var all []Call
	if code := h.control("GET", "/sim/v1/calls", nil, &all); code != 200 || len(all) != 1 || all[0].Sid != sid {
		t.Fatalf("calls = %d %+v", code, all)
	}
}

func TestInboundCallNeedsWebhook(t *testing.T) {
	h := newVoiceHarness(t, func(c *Config) { c.VoiceWebhookURL = "" })
	var e controlError
	if code := h.control("POST", "/sim/v1/phones/"+url.PathEscape(testPhone)+"/call", map[string]any{}, &e); code != http.StatusConflict {
		t.Fatalf("call without a voice webhook = %d %+v, want 409", code, e)
	}
}
