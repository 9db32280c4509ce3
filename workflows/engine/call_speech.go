package engine

import (
	"errors"
	"fmt"
	"strings"
)

// CallPoint names a moment of a call at which the platform speaks: the
// voice channel reports where the call is, CallSpeech says what is said
// there and what the call does next.
type CallPoint string

// Points of a call.
const (
	// CallAnswered: the driver picked up an outbound call about the
	// conversation.
	CallAnswered CallPoint = "answered"
	// CallVoicemail: an answering machine picked up the call.
	CallVoicemail CallPoint = "voicemail"
	// CallMenu: the conversation as it stands after a key, with the
	// engine's inline answer to it (CallContext.Spoken), or when its
	// question is asked again.
	CallMenu CallPoint = "menu"
	// CallStatusMenu: a call the driver placed about a stay they were not
	// asked about: where it stands, then the menu.
	CallStatusMenu CallPoint = "status_menu"
	// CallHold: a caller waiting while the charge and the meter are
	// processed (CallContext.CanHold says whether they may wait longer).
	CallHold CallPoint = "hold"
	// CallNoInput: silence at a question, which is asked again next.
	CallNoInput CallPoint = "no_input"
	// CallInvalid: a key that answers nothing, and the question is asked
	// again next.
	CallInvalid CallPoint = "invalid"
	// CallGoodbye: the call ends after too many silences; the message goes
	// on by text.
	CallGoodbye CallPoint = "goodbye"
	// CallPIN asks for the driver's PIN.
	CallPIN CallPoint = "pin"
	// CallPINWrong: a wrong PIN, asked for again.
	CallPINWrong CallPoint = "pin_wrong"
	// CallPINLocked: too many wrong PINs; voice confirmation is locked.
	CallPINLocked CallPoint = "pin_locked"
	// CallUnknownCaller: a withheld or unregistered number called in.
	CallUnknownCaller CallPoint = "unknown_caller"
	// CallAskMeter asks an unrecognised caller for the meter number.
	CallAskMeter CallPoint = "ask_meter"
	// CallAskBay asks an unrecognised caller for the bay number.
	CallAskBay CallPoint = "ask_bay"
	// CallNotFound: no session matches what an unrecognised caller keyed
	// in, or they stayed silent.
	CallNotFound CallPoint = "not_found"
	// CallNoSession: a registered driver called with no open session.
	CallNoSession CallPoint = "no_session"
	// CallChoose asks which of several open sessions the call is about
	// (CallContext.Choices).
	CallChoose CallPoint = "choose"
	// CallApology: something went wrong; the call ends.
	CallApology CallPoint = "apology"
)

// Gather is the question a call asks on the keypad. Its values are stored
// with the call between webhooks, so they never change.
type Gather string

// Questions of a call.
const (
	GatherMenu   Gather = "menu"   // 1 extend, 2 remind me, 3 app link (9 repeats)
	GatherQuote  Gather = "quote"  // 1 confirm, 2 cancel (9 repeats)
	GatherPIN    Gather = "pin"    // the driver's PIN, ended by #
	GatherChoose Gather = "choose" // which session, by its number
	GatherMeter  Gather = "meter"  // the meter number, ended by #
	GatherBay    Gather = "bay"    // the bay number, ended by #
)

// Keys says how the answer to the question is keyed: one key, or digits
// ended by finishOnKey (numDigits 0).
func (g Gather) Keys() (numDigits int, finishOnKey string) {
	switch g {
	case GatherPIN, GatherMeter, GatherBay:
		return 0, "#"
	}
	return 1, ""
}

// CallThen is what a call does after the words of a point.
type CallThen string

// What follows the words.
const (
	// ThenContinue: the channel goes on (asks the question again after
	// CallNoInput and CallInvalid); nothing follows a Gather.
	ThenContinue CallThen = ""
	// ThenHangup ends the call.
	ThenHangup CallThen = "hangup"
	// ThenHold starts holding: the call checks back shortly.
	ThenHold CallThen = "hold"
	// ThenWait keeps holding: a pause, then the call checks again.
	ThenWait CallThen = "wait"
)

// MaxCallChoices is how many sessions a caller can choose between.
const MaxCallChoices = 8

// SpokenLine is one thing said: its voice template and its text (for an
// inline answer, the template of the message spoken).
type SpokenLine struct {
	Template string
	Text     string
}

// Speech is what a call says at one point: Say in order, then (when Gather
// is set) the question with its Prompts, and then Then.
type Speech struct {
	Say     []SpokenLine
	Gather  Gather
	Prompts []SpokenLine
	Then    CallThen
}

// CallContext is what a call knows beyond the conversation.
type CallContext struct {
	// Lang is the call's language, for the call's own prompts (the
	// conversation's messages are in the conversation's language).
	Lang string
	// Spoken are the engine's inline messages answering the last key.
	Spoken []Effect
	// Message is the template of the message the call was placed for
	// (notice, grace_alert; notice when empty).
	Message string
	// CanHold reports whether a holding caller may wait longer.
	CanHold bool
	// Choices are the sessions a caller chooses between (CallChoose).
	Choices []State
}

// apologyText is said when even the error prompt cannot be rendered.
const apologyText = "Sorry, something went wrong. Goodbye."

// CallSpeech decides what a call says at point about conversation st (the
// zero State when the call is about none yet). A prompt that cannot be
// rendered is left empty (nothing is said for it) and reported in the
// error; the rest of the speech stands.
func CallSpeech(set *Settings, st State, point CallPoint, c CallContext) (Speech, error) {
	s := &speaker{set: set, st: st, c: c}
	switch point {
	case CallAnswered:
		if !st.Phase.AwaitingDriver() {
			// The conversation moved on while the phone rang (for example
			// an SMS reply): say where things stand.
			s.say(s.conv("status"))
			s.sp.Then = ThenHangup
			break
		}
		s.menu()
	case CallVoicemail:
		s.say(s.conv("voicemail"))
		s.sp.Then = ThenHangup
	case CallMenu:
		s.menu()
	case CallStatusMenu:
		s.say(s.conv("status"))
		s.ask(GatherMenu, s.conv("menu"))
	case CallHold:
		s.hold()
	case CallNoInput, CallInvalid:
		s.say(s.own(string(point)))
	case CallGoodbye:
		s.say(s.own("goodbye"))
		s.sp.Then = ThenHangup
	case CallPIN:
		s.ask(GatherPIN, s.own("pin_prompt"))
	case CallPINWrong:
		s.say(s.own("pin_wrong"))
		s.ask(GatherPIN, s.own("pin_prompt"))
	case CallPINLocked:
		s.say(s.own("pin_locked"))
		s.sp.Then = ThenHangup
	case CallUnknownCaller:
		if !set.Voice.AllowUnknownCallers {
			s.say(s.own("unknown_caller"))
			s.sp.Then = ThenHangup
			break
		}
		s.ask(GatherMeter, s.own("ask_meter"))
	case CallAskMeter:
		s.ask(GatherMeter, s.own("ask_meter"))
	case CallAskBay:
		s.ask(GatherBay, s.own("ask_bay"))
	case CallNotFound:
		s.say(s.own("not_found"), s.own("unknown_caller"))
		s.sp.Then = ThenHangup
	case CallNoSession:
		s.say(s.own("no_session"))
		s.sp.Then = ThenHangup
	case CallChoose:
		s.choose()
	case CallApology:
		l := s.own("error")
		if l.Text == "" {
			l.Text = apologyText
		}
		s.say(l)
		s.sp.Then = ThenHangup
	default:
		return Speech{}, fmt.Errorf("unknown call point %q", point)
	}
	return s.sp, errors.Join(s.errs...)
}

// CallFallbackTemplate is the message a call that did not reach the driver
// hands over to text: the quote when one is open, else the message the call
// was placed for.
func CallFallbackTemplate(st State, message string) string {
	if st.Phase == PhaseQuoted {
		return (&stepper{st: st}).quoteTemplate()
	}
	return message
}

// speaker builds one Speech.
type speaker struct {
	set  *Settings
	st   State
	c    CallContext
	sp   Speech
	errs []error
}

func (s *speaker) say(lines ...SpokenLine) { s.sp.Say = append(s.sp.Say, lines...) }

func (s *speaker) ask(g Gather, prompts ...SpokenLine) {
	s.sp.Gather, s.sp.Prompts = g, append(s.sp.Prompts, prompts...)
}

// conv renders a prompt about the conversation as it stands.
func (s *speaker) conv(name string) SpokenLine {
	text, err := Prompt(s.set, s.st, name, true)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("voice prompt %s of %s: %w", name, s.st.ID, err))
	}
	return SpokenLine{Template: name, Text: text}
}

// own renders one of the call's own prompts, which need no conversation.
func (s *speaker) own(name string) SpokenLine {
	return s.ownWith(name, MessageData{Operator: s.set.Operator, HelpContact: s.set.HelpContact})
}

func (s *speaker) ownWith(name string, data MessageData) SpokenLine {
	text, err := s.set.RenderVoice(s.c.Lang, name, data)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("voice prompt %s: %w", name, err))
	}
	return SpokenLine{Template: name, Text: text}
}

// spoken are the inline answers to the last key.
func (s *speaker) spoken() []SpokenLine {
	var out []SpokenLine
	for _, e := range s.c.Spoken {
		if e.Send != nil {
			out = append(out, SpokenLine{Template: e.Send.Template, Text: e.Send.Body})
		}
	}
	return out
}

// menu speaks what the conversation waits for and asks for the answer, or
// says where it stands and hangs up.
func (s *speaker) menu() {
	said := s.spoken()
	switch s.st.Phase {
	case PhaseQuoted:
		if len(said) == 0 {
			said = append(said, s.conv((&stepper{st: s.st}).quoteTemplate()))
		}
		s.ask(GatherQuote, said...)
	case PhaseOffered:
		if len(said) == 0 {
			said = append(said, s.conv(s.offerTemplate()))
		}
		s.ask(GatherMenu, said...)
	case PhaseCharging:
		s.say(said...)
		s.say(s.conv("hold"))
		s.sp.Then = ThenHold
	case PhaseParked, PhaseRenewing:
		if len(said) == 0 {
			said = append(said, s.conv("status"))
		}
		s.say(said...)
		s.sp.Then = ThenHangup
	case PhaseAlertSet, PhaseAppLink:
		if len(said) == 0 {
			// A reminder or the app link is pending: say where the stay
			// stands and offer the menu again.
			s.say(s.conv("status"))
			s.ask(GatherMenu, s.conv("menu"))
			return
		}
		s.say(said...)
		s.sp.Then = ThenHangup
	default: // ended, refused, superseded, opted out
		s.say(said...)
		s.sp.Then = ThenHangup
	}
}

// offerTemplate is the message an offer is spoken as: the one the call was
// placed for when it offers the menu, else the notice.
func (s *speaker) offerTemplate() string {
	if s.c.Message == "notice" || s.c.Message == "grace_alert" {
		return s.c.Message
	}
	return "notice"
}

// hold answers a caller waiting for the charge and the meter.
func (s *speaker) hold() {
	st := s.st
	waiting := st.Phase == PhaseCharging || st.Phase == PhaseRenewing
	switch {
	case waiting && st.ChargeCheck != nil:
		// The gateway could not tell whether the card was charged: it is
		// looked up for as long as it takes, longer than a call can hold.
		s.say(s.conv("payment_checking"), s.own("goodbye"))
		s.sp.Then = ThenHangup
	case waiting && s.c.CanHold:
		s.sp.Then = ThenWait
	case waiting:
		s.say(s.conv("processing"), s.own("goodbye"))
		s.sp.Then = ThenHangup
	case st.Phase == PhaseParked && len(st.Renewals) > 0:
		tpl := "confirmed"
		if st.Renewals[len(st.Renewals)-1].MeterAck != "acked" {
			tpl = "confirmed_central"
		}
		s.say(s.conv(tpl))
		s.sp.Then = ThenHangup
	case st.Phase == PhaseOffered && st.LastCharge != "":
		s.say(s.conv(chargeFailureTemplate(st.LastCharge)))
		s.menu()
	default:
		s.menu()
	}
}

// chargeFailureTemplate is the spoken message of a charge that did not go
// through.
func chargeFailureTemplate(o ChargeOutcome) string {
	switch o {
	case ChargeInsufficient:
		return "insufficient_funds"
	case ChargeCardExpired:
		return "card_expired"
	case ChargeUnavailable:
		return "payment_unavailable"
	case ChargeUnknown:
		return "payment_checking"
	case ChargeDebit:
		return "debit"
	case ChargeBlacklisted:
		return "blacklisted_card"
	}
	return "declined"
}

// choiceFormats say one numbered session of CallChoose, per language.
var choiceFormats = map[string]string{
	"en":    "Press %d for bay %s at %s. ",
	"zh-HK": "%[3]s%[2]s號車位請按%[1]d。",
	"zh-CN": "%[3]s%[2]s号车位请按%[1]d。",
}

// choose asks which of the sessions in the context the call is about.
func (s *speaker) choose() {
	format := choiceFormats[s.c.Lang]
	if format == "" {
		format = choiceFormats["en"]
	}
	var b strings.Builder
	for i, st := range s.c.Choices {
		if i >= MaxCallChoices {
			break
		}
		fmt.Fprintf(&b, format, i+1, st.Bay, st.Location)
	}
	data := MessageData{Operator: s.set.Operator, HelpContact: s.set.HelpContact, Choices: strings.TrimSpace(b.String())}
	s.ask(GatherChoose, s.ownWith("choose_session", data))
}
