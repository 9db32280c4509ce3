package engine

import (
	"fmt"
	"testing"
	"time"
)

// deadlineOf is, independently of the engine, the latest moment a message
// may still be delivered: what the text refers to.
func deadlineOf(set *Settings, st State, template string, now time.Time) time.Time {
	limit := now.Add(DefaultValidity)
	var at time.Time
	switch template {
	case "notice", "notice_debit", "notice_max_stay":
		at = st.PaidUntil
	case "quote", "quote_capped", "grace_alert", "menu", "app_link", "alert_scheduled":
		at = st.GraceEnd(set)
	default:
		return limit
	}
	if at.After(limit) {
		return limit
	}
	return at
}

// validityWalk drives one conversation through the notice, its escalation,
// a quote, a cancel, option 2 and the grace alert, checking every message.
type validityWalk struct {
	t    *testing.T
	set  *Settings
	st   State
	now  time.Time
	name string
	sent int
}

func (w *validityWalk) check(effects []Effect) {
	w.t.Helper()
	for _, e := range effects {
		if e.Send == nil {
			continue
		}
		w.sent++
		m := e.Send
		if m.ValidUntil.IsZero() {
			w.t.Fatalf("%s: %s on %s has no validity", w.name, m.Template, m.Channel)
		}
		if d := deadlineOf(w.set, w.st, m.Template, w.now); m.ValidUntil.After(d) {
			w.t.Fatalf("%s: %s on %s at %s valid until %s, past %s (paid until %s)", w.name, m.Template, m.Channel,
				w.now.Format("15:04:05"), m.ValidUntil.Format("15:04:05"), d.Format("15:04:05"), w.st.PaidUntil.Format("15:04:05"))
		}
	}
}

func (w *validityWalk) step(in Input, at time.Time) {
	w.t.Helper()
	if at.After(w.now) {
		w.now = at
	}
	in.Facts = Facts{Known: true, HasApp: true}
	var effects []Effect
	w.st, effects = Step(w.set, w.st, in, w.now)
	w.check(effects)
}

func (w *validityWalk) fire(kind TimerKind) bool {
	w.t.Helper()
	tm, ok := w.st.Timers[kind]
	if !ok {
		return false
	}
	w.step(Input{Kind: InputTimer, Timer: &TimerInput{Kind: kind, ID: tm.ID}}, tm.At)
	return true
}

func (w *validityWalk) reply(after time.Duration, a Answer) {
	w.t.Helper()
	w.step(Input{Kind: InputReply, Reply: &ReplyInput{Answer: a, Channel: ChannelSMS}}, w.now.Add(after))
}

// TestNoTextIsValidPastWhatItRefersTo is the property over every lead time
// the settings allow, minute by minute, with payments of several lengths
// and answers at several moments: no message is ever valid past the paid
// time (the notice), the quote's expiry (a quote) or the grace end (the
// grace alert and the offers).
func TestNoTextIsValidPastWhatItRefersTo(t *testing.T) {
	set, err := LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	r := set.LeadTimeRange
	if r.Max-r.Min < 10*time.Minute {
		t.Fatalf("lead time range %s-%s is too narrow to be a useful property", r.Min, r.Max)
	}
	for lead := r.Min; lead <= r.Max; lead += time.Minute {
		paids := []time.Duration{lead + 10*time.Minute, lead + 30*time.Second, lead, lead - time.Minute, time.Minute, 2 * time.Hour}
		answers := []time.Duration{0, 30 * time.Second, lead - time.Second, lead, lead + 3*time.Minute}
		for _, paid := range paids {
			for _, answer := range answers {
				for _, path := range []string{"quote", "alert", "late_failure"} {
					name := fmt.Sprintf("lead %s paid %s answer after %s %s", lead, paid, answer, path)
					u := driver
					u.LeadTime, u.Channels = lead, []string{ChannelPush, ChannelSMS, ChannelVoice}
					w := &validityWalk{t: t, set: set, now: t0, name: name}
					var effects []Effect
					w.st, effects = Open(set, u, PaymentInput{TxnID: "T1", MeterID: "M1", Bay: "1", PaidAt: t0, PaidUntil: t0.Add(paid)},
						Facts{Known: true, HasApp: true}, t0)
					w.check(effects)
					w.fire(TimerNotice)
					noticeAt := w.now
					for w.fire(TimerEscalate) {
					}
					switch path {
					case "quote":
						w.now = noticeAt
						w.reply(answer, AnswerOne)
						w.reply(10*time.Second, AnswerUnknown)
						w.reply(10*time.Second, AnswerTwo)
						w.reply(10*time.Second, AnswerUnknown)
						w.reply(10*time.Second, AnswerThree)
					case "alert":
						w.now = noticeAt
						w.reply(answer, AnswerTwo)
						w.fire(TimerGraceAlert)
						for w.fire(TimerEscalate) {
						}
						w.reply(answer, AnswerOne)
						w.fire(TimerGraceEnd)
					case "late_failure":
						// The call of the notice ends unanswered after the paid time:
						// the notice is not texted instead, the grace alert is while
						// the grace period runs.
						var effects []Effect
						w.now = w.st.PaidUntil.Add(answer)
						w.st, effects = Step(w.set, w.st, Input{Kind: InputSendFailed, Send: &SendFailure{Channel: ChannelVoice, Template: "notice", Reason: "no-answer"}}, w.now)
						w.check(effects)
						for _, e := range effects {
							if e.Send != nil && (e.Send.Template != "grace_alert" || !w.now.Before(w.st.GraceEnd(set))) {
								t.Fatalf("%s: %s sent after a call that failed after the paid time", name, e.Send.Template)
							}
						}
					}
					if w.sent == 0 {
						t.Fatalf("%s: no message at all", name)
					}
				}
			}
		}
	}
}

// With the operator's lead time of 10 minutes and the driver's own of 5,
// the notice used to be valid for three quarters of the operator's lead
// time (7.5 minutes): a text held by the carrier could arrive 2.5 minutes
// after the parking ended.
func TestNoticeWithAShortLeadTimeIsNotValidPastThePaidTime(t *testing.T) {
	set, err := LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	if set.LeadTime != 10*time.Minute {
		t.Fatalf("operator lead time %s, the test expects 10m", set.LeadTime)
	}
	u := driver
	u.LeadTime = 5 * time.Minute
	st, _ := Open(set, u, PaymentInput{TxnID: "T1", MeterID: "M1", Bay: "1", PaidAt: t0, PaidUntil: t0.Add(30 * time.Minute)}, Facts{}, t0)
	tm := st.Timers[TimerNotice]
	if want := t0.Add(25 * time.Minute); !tm.At.Equal(want) {
		t.Fatalf("notice at %s, want %s", tm.At, want)
	}
	_, effects := Step(set, st, Input{Kind: InputTimer, Timer: &TimerInput{Kind: TimerNotice, ID: tm.ID}}, tm.At)
	var notice *Send
	for _, e := range effects {
		if e.Send != nil && e.Send.Template == "notice" {
			notice = e.Send
		}
	}
	if notice == nil {
		t.Fatalf("no notice in %+v", effects)
	}
	if !notice.ValidUntil.Equal(st.PaidUntil) {
		t.Fatalf("notice valid until %s, want the paid-until time %s", notice.ValidUntil, st.PaidUntil)
	}
}
