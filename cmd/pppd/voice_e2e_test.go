package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"ppprenew/sim"
	"ppprenew/workflows/engine"
)

// script sets how a simulated handset answers calls.
func (h *harness) script(phone string, s sim.VoiceScript) {
	h.t.Helper()
	if code := h.simctl("POST", "/phones/"+url.PathEscape(phone)+"/voice", s, nil); code != 200 {
		h.t.Fatalf("set voice script: %d", code)
	}
}

// ended waits until a phone has n calls, the last one over, and returns it.
func (h *harness) ended(phone string, n int) sim.Call {
	h.t.Helper()
	var calls []sim.Call
	h.eventually("call to end", func() bool {
		calls = nil
		h.simctl("GET", "/phones/"+url.PathEscape(phone)+"/calls", nil, &calls)
		return len(calls) >= n && calls[n-1].Ended
	})
	return calls[n-1]
}

// heard joins what the caller heard and pressed, for assertions.
// mustHear fails the test unless the call said each of want, in any order.
func mustHear(t *testing.T, c sim.Call, want ...string) {
	t.Helper()
	got := heard(c)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("the call did not contain %q:\n%s", w, got)
		}
	}
}

func heard(c sim.Call) string {
	var b []string
	for _, e := range c.Transcript {
		switch e.Kind {
		case sim.EntrySay:
			b = append(b, "say: "+e.Text)
		case sim.EntryDigits:
			b = append(b, "press: "+e.Text)
		case sim.EntryHangup:
			b = append(b, "hangup")
		}
	}
	return strings.Join(b, "\n")
}

func press(digits ...string) []sim.VoiceStep {
	var s []sim.VoiceStep
	for _, d := range digits {
		s = append(s, sim.VoiceStep{Digits: d})
	}
	return s
}

func TestVoiceOutboundCallExtendAndConfirm(t *testing.T) {
	h := newHarness(t)
	card := h.driverWith(alice, "en", "credit", 10000, map[string]any{"channel": "voice"})
	h.meter("M1", "")
	h.script(alice, sim.VoiceScript{Answer: "human", Rings: 2, Steps: press("1", "1")})
	before := time.Time{}
	h.tap("M1", "1", card, 8*time.Second)
	before = h.bayPaidUntil("M1", "1")
	c := h.ended(alice, 1)
	mustHear(t, c, "ends at", "press: 1", "for 10 Hong Kong dollars, on your card ending 4242", "Please hold", "is renewed until")
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges", n)
	}
	if after := h.bayPaidUntil("M1", "1"); !after.Equal(before.Add(30 * time.Minute)) {
		t.Fatalf("meter paid until %s, want %s", after, before.Add(30*time.Minute))
	}
	h.expect(alice, 1, "Renewed") // the receipt by SMS
}

func TestVoiceMandarinPINLockoutThenSMS(t *testing.T) {
	h := newHarnessWith(t, func(s *engine.Settings) { s.Voice.PINRequired = true })
	card := h.driverWith(alice, "zh-CN", "credit", 10000, map[string]any{"channel": "voice", "pin": "2468"})
	h.meter("M1", "")
	h.script(alice, sim.VoiceScript{Answer: "human", Steps: press("1", "1", "1111", "2222", "3333")})
	h.tap("M1", "1", card, 8*time.Second)
	c := h.ended(alice, 1)
	if got := heard(c); !strings.Contains(got, "密码错误次数过多") {
		t.Fatalf("no lockout message in the call:\n%s", got)
	}
	h.expect(alice, 1, "回复1确认") // the quote goes on by SMS
	if n := len(h.world.Gateway.Charges()); n != 0 {
		t.Fatalf("%d charges without a correct PIN", n)
	}
}

func TestVoiceRightPINConfirms(t *testing.T) {
	h := newHarnessWith(t, func(s *engine.Settings) { s.Voice.PINRequired = true })
	card := h.driverWith(alice, "zh-HK", "credit", 10000, map[string]any{"channel": "voice", "pin": "2468"})
	h.meter("M1", "")
	h.script(alice, sim.VoiceScript{Answer: "human", Steps: press("1", "1", "2468")})
	h.tap("M1", "1", card, 8*time.Second)
	c := h.ended(alice, 1)
	if got := heard(c); !strings.Contains(got, "已續期至") {
		t.Fatalf("no confirmation in Cantonese:\n%s", got)
	}
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges", n)
	}
}

func TestVoiceNoInputFallsBackToSMS(t *testing.T) {
	// The call with its two re-prompts ends well before the paid time does,
	// so the text it promises is still the notice.
	h := newHarnessWith(t, func(s *engine.Settings) { s.LeadTime = 58 * time.Second })
	card := h.driverWith(alice, "en", "credit", 10000, map[string]any{"channel": "voice"})
	h.meter("M1", "")
	h.script(alice, sim.VoiceScript{Answer: "human"}) // picks up, presses nothing
	h.tap("M1", "1", card, 60*time.Second)
	c := h.ended(alice, 1)
	if got := heard(c); strings.Count(got, "we did not hear a key") != 2 || !strings.Contains(got, "text message instead") {
		t.Fatalf("want two re-prompts then a goodbye:\n%s", got)
	}
	h.expect(alice, 1, "Reply 1 to extend")
	h.text(alice, "1", false)
	h.expect(alice, 2, "Reply 1 to confirm")
}

func TestVoicemailLeavesMessageAndTexts(t *testing.T) {
	h := newHarness(t)
	card := h.driverWith(alice, "en", "credit", 10000, map[string]any{"channel": "voice"})
	h.meter("M1", "")
	h.script(alice, sim.VoiceScript{Answer: "voicemail"})
	h.tap("M1", "1", card, 8*time.Second)
	c := h.ended(alice, 1)
	if c.AnsweredBy == "" || !strings.Contains(heard(c), "We have sent you a text message") {
		t.Fatalf("answered by %q:\n%s", c.AnsweredBy, heard(c))
	}
	h.expect(alice, 1, "Reply 1 to extend")
	h.settle(time.Time{})
	if n := h.textsAccepted(alice); n != 1 {
		t.Fatalf("the carrier accepted %d texts, want the notice once", n)
	}
	if msgs := h.inbox(alice); len(msgs) != 1 {
		t.Fatalf("texts %s, want the notice once", bodies(msgs))
	}
}

func TestVoiceBusyFallsBackToSMS(t *testing.T) {
	h := newHarness(t)
	card := h.driverWith(alice, "en", "credit", 10000, map[string]any{"channel": "voice"})
	h.meter("M1", "")
	h.script(alice, sim.VoiceScript{Answer: "busy"})
	h.tap("M1", "1", card, 8*time.Second)
	if c := h.ended(alice, 1); c.Status != "busy" {
		t.Fatalf("call status %s", c.Status)
	}
	h.expect(alice, 1, "Reply 1 to extend")
}

func TestVoiceHangupMidConfirmChargesNothing(t *testing.T) {
	h := newHarness(t)
	card := h.driverWith(alice, "en", "credit", 10000, map[string]any{"channel": "voice"})
	h.meter("M1", "")
	h.script(alice, sim.VoiceScript{Answer: "human", Steps: []sim.VoiceStep{{Digits: "1"}, {Hangup: true}}})
	h.tap("M1", "1", card, 8*time.Second)
	h.ended(alice, 1)
	st, _ := h.conv(alice)
	if n := len(h.world.Gateway.Charges()); n != 0 || st.Phase != engine.PhaseQuoted {
		t.Fatalf("%d charges, phase %s: want nothing charged and the quote open", n, st.Phase)
	}
}

// inboundCall places a call from a phone to the platform and waits for it.
func (h *harness) inboundCall(from string, withheld bool, digits ...string) sim.Call {
	h.t.Helper()
	var c sim.Call
	if code := h.simctl("POST", "/phones/"+url.PathEscape(from)+"/call?wait=30s", sim.InboundCall{Steps: press(digits...), FromWithheld: withheld}, &c); code != 200 && code != 201 {
		h.t.Fatalf("inbound call: %d", code)
	}
	h.eventually("the inbound call to end", func() bool {
		h.simctl("GET", "/calls/"+c.Sid, nil, &c)
		return c.Ended
	})
	return c
}

func TestInboundCallFromRegisteredPhoneRenews(t *testing.T) {
	h := newHarness(t)
	card := h.driver(alice, "en", "credit", 10000) // an SMS driver who prefers to call
	h.meter("M1", "")
	h.tap("M1", "1", card, 8*time.Second)
	h.expect(alice, 1, "Reply 1 to extend")
	c := h.inboundCall(alice, false, "1", "1")
	if got := heard(c); !strings.Contains(got, "is renewed until") {
		t.Fatalf("inbound call:\n%s", got)
	}
	if n := len(h.succeededCharges()); n != 1 {
		t.Fatalf("%d charges", n)
	}
}

func TestInboundCallFromUnknownOrWithheldNumber(t *testing.T) {
	h := newHarnessWith(t, func(s *engine.Settings) { s.Voice.AllowUnknownCallers = false })
	c := h.inboundCall("+85290000009", false)
	if got := heard(c); !strings.Contains(got, "We do not recognise this number") {
		t.Fatalf("unknown caller:\n%s", got)
	}
	c = h.inboundCall("+85290000009", true)
	if got := heard(c); !strings.Contains(got, "We do not recognise this number") {
		t.Fatalf("withheld caller:\n%s", got)
	}
}

func TestVoiceDuplicatedGatherWebhookChargesOnce(t *testing.T) {
	h := newHarness(t)
	card := h.driverWith(alice, "en", "credit", 10000, map[string]any{"channel": "voice"})
	h.meter("M1", "")
	// The carrier delivers the confirming key press twice.
	h.script(alice, sim.VoiceScript{Answer: "human", Steps: []sim.VoiceStep{{Digits: "1"}, {Digits: "1", Duplicate: true}}})
	h.tap("M1", "1", card, 8*time.Second)
	c := h.ended(alice, 1)
	if got := heard(c); !strings.Contains(got, "is renewed until") {
		t.Fatalf("call:\n%s", got)
	}
	dup := false
	for _, e := range c.Transcript {
		dup = dup || strings.Contains(e.Detail, "duplicate delivery")
	}
	if !dup {
		t.Fatal("the gather action was not delivered twice")
	}
	h.settle(time.Time{}, "M1")
	h.exactlyOnce(card, "M1")
}
