package engine

import (
	"strings"
	"testing"
	"time"
)

// lines lists the templates of spoken lines, comma separated.
func lines(ls []SpokenLine) string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Template)
	}
	return strings.Join(out, ",")
}

func TestCallSpeech(t *testing.T) {
	set, err := LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	paid := time.Date(2026, 11, 21, 12, 30, 0, 0, time.UTC)
	conv := func(p Phase, edit ...func(*State)) State {
		st := State{ID: "c-M1-T1", Phase: p, Language: "en", Bay: "12", Location: "Pier Road", CardLast4: "4242",
			PaidUntil: paid, Timers: map[TimerKind]Timer{}}
		for _, e := range edit {
			e(&st)
		}
		return st
	}
	quote := func(capped bool) func(*State) {
		return func(st *State) {
			st.Quote = &Quote{Amount: 1000, Currency: "HKD", From: paid, Until: paid.Add(30 * time.Minute), Capped: capped, ChargeKey: "k1"}
		}
	}
	renewed := func(ack string) func(*State) {
		return func(st *State) {
			st.Renewals = []Renewal{{Amount: 1000, Currency: "HKD", From: paid, Until: paid.Add(30 * time.Minute), MeterAck: ack}}
		}
	}
	said := []Effect{{Kind: EffectSend, Send: &Send{Template: "alert_scheduled", Body: "We will call you back.", Inline: true}}}
	allowUnknown, refuseUnknown := *set, *set
	allowUnknown.Voice.AllowUnknownCallers, refuseUnknown.Voice.AllowUnknownCallers = true, false

	tests := []struct {
		name    string
		set     *Settings
		st      State
		point   CallPoint
		c       CallContext
		say     string
		gather  Gather
		prompts string
		then    CallThen
	}{
		// An outbound call picked up.
		{name: "answered offered notice", st: conv(PhaseOffered), point: CallAnswered, c: CallContext{Message: "notice"},
			gather: GatherMenu, prompts: "notice"},
		{name: "answered offered grace alert", st: conv(PhaseOffered), point: CallAnswered, c: CallContext{Message: "grace_alert"},
			gather: GatherMenu, prompts: "grace_alert"},
		{name: "answered offered other message speaks the notice", st: conv(PhaseOffered), point: CallAnswered, c: CallContext{Message: "app_link"},
			gather: GatherMenu, prompts: "notice"},
		{name: "answered quoted", st: conv(PhaseQuoted, quote(false)), point: CallAnswered, gather: GatherQuote, prompts: "quote"},
		{name: "answered quoted capped", st: conv(PhaseQuoted, quote(true)), point: CallAnswered, gather: GatherQuote, prompts: "quote_capped"},
		{name: "answered after the conversation moved on", st: conv(PhaseCharging), point: CallAnswered, say: "status", then: ThenHangup},
		{name: "answered parked", st: conv(PhaseParked), point: CallAnswered, say: "status", then: ThenHangup},
		{name: "voicemail", st: conv(PhaseOffered), point: CallVoicemail, say: "voicemail", then: ThenHangup},

		// The menu after a key, with the engine's inline answer or without.
		{name: "menu quoted with the spoken quote", st: conv(PhaseQuoted, quote(false)), point: CallMenu,
			c: CallContext{Spoken: []Effect{{Send: &Send{Template: "quote", Body: "It costs 10 dollars.", Inline: true}}}}, gather: GatherQuote, prompts: "quote"},
		{name: "menu charging holds", st: conv(PhaseCharging), point: CallMenu, say: "hold", then: ThenHold},
		{name: "menu alert set with an answer says it and ends", st: conv(PhaseAlertSet), point: CallMenu, c: CallContext{Spoken: said},
			say: "alert_scheduled", then: ThenHangup},
		{name: "menu alert set asked again offers the menu", st: conv(PhaseAlertSet), point: CallMenu, say: "status", gather: GatherMenu, prompts: "menu"},
		{name: "menu app link asked again offers the menu", st: conv(PhaseAppLink), point: CallMenu, say: "status", gather: GatherMenu, prompts: "menu"},
		{name: "menu renewing says the status", st: conv(PhaseRenewing), point: CallMenu, say: "status", then: ThenHangup},
		{name: "menu ended says the answer and ends", st: conv(PhaseEnded), point: CallMenu,
			c: CallContext{Spoken: []Effect{{Send: &Send{Template: "declined_offer", Body: "OK.", Inline: true}}}}, say: "declined_offer", then: ThenHangup},
		{name: "menu ended with nothing to say ends", st: conv(PhaseEnded), point: CallMenu, then: ThenHangup},
		{name: "status menu of a call the driver placed", st: conv(PhaseParked), point: CallStatusMenu, say: "status", gather: GatherMenu, prompts: "menu"},

		// Holding while the card and the meter are processed.
		{name: "hold waits", st: conv(PhaseCharging), point: CallHold, c: CallContext{CanHold: true}, then: ThenWait},
		{name: "hold renewing waits", st: conv(PhaseRenewing), point: CallHold, c: CallContext{CanHold: true}, then: ThenWait},
		{name: "hold too long", st: conv(PhaseCharging), point: CallHold, say: "processing,goodbye", then: ThenHangup},
		{name: "hold with the charge in doubt", st: conv(PhaseCharging, func(st *State) { st.ChargeCheck = &ChargeCheck{} }), point: CallHold,
			c: CallContext{CanHold: true}, say: "payment_checking,goodbye", then: ThenHangup},
		{name: "hold confirmed by the meter", st: conv(PhaseParked, renewed("acked")), point: CallHold, say: "confirmed", then: ThenHangup},
		{name: "hold confirmed centrally", st: conv(PhaseParked, renewed("timeout")), point: CallHold, say: "confirmed_central", then: ThenHangup},
		{name: "hold declined offers the menu again", st: conv(PhaseOffered, func(st *State) { st.LastCharge = ChargeDeclined }), point: CallHold,
			say: "declined", gather: GatherMenu, prompts: "notice"},
		{name: "hold insufficient funds", st: conv(PhaseOffered, func(st *State) { st.LastCharge = ChargeInsufficient }), point: CallHold,
			say: "insufficient_funds", gather: GatherMenu, prompts: "notice"},
		{name: "hold debit", st: conv(PhaseOffered, func(st *State) { st.LastCharge = ChargeDebit }), point: CallHold,
			say: "debit", gather: GatherMenu, prompts: "notice"},
		{name: "hold card expired", st: conv(PhaseOffered, func(st *State) { st.LastCharge = ChargeCardExpired }), point: CallHold,
			say: "card_expired", gather: GatherMenu, prompts: "notice"},
		{name: "hold gateway unavailable", st: conv(PhaseOffered, func(st *State) { st.LastCharge = ChargeUnavailable }), point: CallHold,
			say: "payment_unavailable", gather: GatherMenu, prompts: "notice"},
		{name: "hold quoted again", st: conv(PhaseQuoted, quote(false)), point: CallHold, gather: GatherQuote, prompts: "quote"},

		// The call's own prompts.
		{name: "no input", point: CallNoInput, say: "no_input"},
		{name: "invalid key", point: CallInvalid, say: "invalid"},
		{name: "goodbye", point: CallGoodbye, say: "goodbye", then: ThenHangup},
		{name: "pin", point: CallPIN, gather: GatherPIN, prompts: "pin_prompt"},
		{name: "pin wrong", point: CallPINWrong, say: "pin_wrong", gather: GatherPIN, prompts: "pin_prompt"},
		{name: "pin locked", point: CallPINLocked, say: "pin_locked", then: ThenHangup},
		{name: "unknown caller refused", set: &refuseUnknown, point: CallUnknownCaller, say: "unknown_caller", then: ThenHangup},
		{name: "unknown caller asked for the meter", set: &allowUnknown, point: CallUnknownCaller, gather: GatherMeter, prompts: "ask_meter"},
		{name: "ask meter", point: CallAskMeter, gather: GatherMeter, prompts: "ask_meter"},
		{name: "ask bay", point: CallAskBay, gather: GatherBay, prompts: "ask_bay"},
		{name: "not found", point: CallNotFound, say: "not_found,unknown_caller", then: ThenHangup},
		{name: "no session", point: CallNoSession, say: "no_session", then: ThenHangup},
		{name: "choose", point: CallChoose, c: CallContext{Choices: []State{conv(PhaseOffered)}}, gather: GatherChoose, prompts: "choose_session"},
		{name: "apology", point: CallApology, say: "error", then: ThenHangup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := set
			if tt.set != nil {
				s = tt.set
			}
			if tt.c.Lang == "" {
				tt.c.Lang = "en"
			}
			got, err := CallSpeech(s, tt.st, tt.point, tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if lines(got.Say) != tt.say || got.Gather != tt.gather || lines(got.Prompts) != tt.prompts || got.Then != tt.then {
				t.Fatalf("got say %q, gather %q %q, then %q; want say %q, gather %q %q, then %q",
					lines(got.Say), got.Gather, lines(got.Prompts), got.Then, tt.say, tt.gather, tt.prompts, tt.then)
			}
			for _, l := range append(got.Say, got.Prompts...) {
				if strings.TrimSpace(l.Text) == "" {
					t.Fatalf("%s is said as nothing", l.Template)
				}
			}
		})
	}
}

// The words are the settings' prompts: the conversation's in its own
// language and with its data, the call's own in the call's language.
func TestCallSpeechTexts(t *testing.T) {
	set, err := LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	st := State{ID: "c-M1-T1", Phase: PhaseParked, Language: "zh-HK", Bay: "12", Location: "Pier Road",
		PaidUntil: time.Date(2026, 11, 21, 12, 30, 0, 0, time.UTC), Timers: map[TimerKind]Timer{}}
	got, err := CallSpeech(set, st, CallStatusMenu, CallContext{Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Prompt(set, st, "status", true)
	if got.Say[0].Text != want {
		t.Fatalf("status said %q, want the conversation's %q", got.Say[0].Text, want)
	}
	got, err = CallSpeech(set, st, CallGoodbye, CallContext{Lang: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ = set.RenderVoice("zh-CN", "goodbye", MessageData{Operator: set.Operator, HelpContact: set.HelpContact})
	if got.Say[0].Text != want {
		t.Fatalf("goodbye said %q, want the call's %q", got.Say[0].Text, want)
	}

	// Choices are numbered in the call's language, at most MaxCallChoices.
	var many []State
	for i := range MaxCallChoices + 2 {
		c := st
		c.Bay = string(rune('A' + i))
		many = append(many, c)
	}
	got, err = CallSpeech(set, State{}, CallChoose, CallContext{Lang: "en", Choices: many})
	if err != nil {
		t.Fatal(err)
	}
	text := got.Prompts[0].Text
	if !strings.Contains(text, "Press 1 for bay A at Pier Road.") || !strings.Contains(text, "Press 8 for bay H") || strings.Contains(text, "Press 9") {
		t.Fatalf("choices said %q, want 1 to 8 in English", text)
	}
	got, _ = CallSpeech(set, State{}, CallChoose, CallContext{Lang: "zh-HK", Choices: many[:1]})
	if !strings.Contains(got.Prompts[0].Text, "Pier RoadA號車位請按1。") {
		t.Fatalf("choices said %q, want Cantonese", got.Prompts[0].Text)
	}

	// The apology is said even when its prompt cannot be.
	got, _ = CallSpeech(&Settings{}, State{}, CallApology, CallContext{Lang: "en"})
	if len(got.Say) != 1 || got.Say[0].Text != apologyText || got.Then != ThenHangup {
		t.Fatalf("apology without settings = %+v, want the fixed apology and a hangup", got)
	}
	if _, err := CallSpeech(set, st, CallPoint("nowhere"), CallContext{}); err == nil {
		t.Fatal("an unknown point was answered")
	}
}

func TestGatherKeys(t *testing.T) {
	for g, want := range map[Gather]string{GatherMenu: "1", GatherQuote: "1", GatherChoose: "1", GatherPIN: "0#", GatherMeter: "0#", GatherBay: "0#"} {
		n, fin := g.Keys()
		if got := string(rune('0'+n)) + fin; got != want {
			t.Errorf("%s keys %q, want %q", g, got, want)
		}
	}
}

func TestCallFallbackTemplate(t *testing.T) {
	q := &Quote{Capped: true}
	for _, tt := range []struct {
		st   State
		msg  string
		want string
	}{
		{State{Phase: PhaseOffered}, "grace_alert", "grace_alert"},
		{State{Phase: PhaseQuoted, Quote: &Quote{}}, "notice", "quote"},
		{State{Phase: PhaseQuoted, Quote: q}, "notice", "quote_capped"},
	} {
		if got := CallFallbackTemplate(tt.st, tt.msg); got != tt.want {
			t.Errorf("%s/%s: %q, want %q", tt.st.Phase, tt.msg, got, tt.want)
		}
	}
}
