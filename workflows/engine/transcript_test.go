package engine

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden transcripts in testdata/transcripts")

// scenarioStep is one thing that happens to a conversation in a transcript.
type scenarioStep struct {
	after  time.Duration // advance the clock by this much first (ignored by fire)
	what   string        // pay, topup, fire, reply, charge, ack, supersede, optout, sendfail
	arg    string
	facts  Facts
	detail string // for ack: reason
}

type scenario struct {
	name  string
	user  User
	zone  string
	paid  time.Duration // minutes paid at the meter
	steps []scenarioStep
	start time.Time // default t0
}

var t0 = time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC) // 12:00 in Hong Kong

// lastSend is the last message among a step's effects.
func lastSend(effects []Effect) Effect {
	var last Effect
	for _, e := range effects {
		if e.Send != nil {
			last = e
		}
	}
	return last
}

func fire(kind TimerKind) scenarioStep { return scenarioStep{what: "fire", arg: string(kind)} }
func reply(d time.Duration, a Answer) scenarioStep {
	return scenarioStep{after: d, what: "reply", arg: string(a)}
}
func charge(d time.Duration, o ChargeOutcome) scenarioStep {
	return scenarioStep{after: d, what: "charge", arg: string(o)}
}
func ack(d time.Duration, applied bool) scenarioStep {
	return scenarioStep{after: d, what: "ack", arg: fmt.Sprint(applied)}
}

var driver = User{ID: "u-1", Phone: "+85291234567", Language: "en", CardToken: "tok_credit_0001", CardLast4: "4242", CardKind: CardCredit}

func withLang(u User, lang string) User { u.Language = lang; return u }
func withKind(u User, k CardKind) User  { u.CardKind = k; return u }
func withVoice(u User) User             { u.Channel = ChannelVoice; return u }
func vreply(d time.Duration, a Answer) scenarioStep {
	return scenarioStep{after: d, what: "vreply", arg: string(a)}
}

var scenarios = []scenario{
	{name: "option1_extend_confirm", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(40*time.Second, AnswerOne), reply(20*time.Second, AnswerYes),
		charge(2*time.Second, ChargeSucceeded), ack(3*time.Second, true), fire(TimerNotice),
	}},
	{name: "option1_zh_hk", user: withLang(driver, "zh-HK"), paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Minute, AnswerOne), reply(time.Minute, AnswerOne),
		charge(time.Second, ChargeSucceeded), ack(time.Second, true),
	}},
	{name: "option1_zh_cn", user: withLang(driver, "zh-CN"), paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Minute, AnswerOne), reply(time.Minute, AnswerNo), reply(time.Minute, AnswerThree),
	}},
	{name: "option2_alert_then_renew", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Minute, AnswerTwo), fire(TimerGraceAlert), reply(time.Minute, AnswerOne),
		reply(10*time.Second, AnswerOne), charge(time.Second, ChargeSucceeded), ack(time.Second, true),
	}},
	{name: "option3_app_link_then_ends", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Minute, AnswerThree), fire(TimerGraceEnd), reply(time.Minute, AnswerOne),
	}},
	{name: "no_reply_ends", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), fire(TimerGraceEnd),
	}},
	{name: "unknown_reply_menu", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Minute, AnswerUnknown), reply(time.Minute, AnswerOne), reply(time.Minute, AnswerUnknown),
	}},
	{name: "declines", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeDeclined),
		reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeInsufficient),
		reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeCardExpired),
		reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeUnavailable),
		reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeSucceeded),
		ack(time.Second, true),
	}},
	{name: "blacklisted_card_at_gateway", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeBlacklisted),
		reply(time.Second, AnswerOne),
	}},
	{name: "blacklisted_card_on_reply", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), {after: time.Second, what: "reply", arg: "1", facts: Facts{CardBlacklisted: "stolen"}},
	}},
	{name: "blacklisted_phone_at_payment", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		{what: "open_facts", facts: Facts{PhoneBlacklisted: "bad debt"}}, fire(TimerNotice),
	}},
	{name: "maximum_stay_capped_then_refused", user: driver, zone: "central", paid: 100 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeSucceeded),
		ack(time.Second, true), fire(TimerNotice), fire(TimerGraceEnd),
	}},
	{name: "maximum_stay_reply_refused", user: driver, zone: "central", paid: 120 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne),
	}},
	{name: "debit_card", user: withKind(driver, CardDebit), paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), fire(TimerGraceEnd),
	}},
	{name: "superseded_while_offered", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), {after: time.Minute, what: "supersede"}, reply(time.Second, AnswerOne),
	}},
	{name: "superseded_while_parked_is_silent", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		{after: time.Minute, what: "supersede"},
	}},
	{name: "superseded_does_not_stop_confirmed_renewal", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), {after: time.Second, what: "supersede"},
		charge(time.Second, ChargeSucceeded), ack(time.Second, true),
	}},
	{name: "stop_mid_conversation", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), {after: time.Second, what: "optout"}, fire(TimerGraceEnd),
	}},
	{name: "meter_silent_confirms_central_record", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeSucceeded),
		fire(TimerMeterAck), ack(time.Minute, true),
	}},
	{name: "meter_rejects", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeSucceeded),
		{after: time.Second, what: "ack", arg: "false", detail: "bay out of service"},
	}},
	{name: "topup_at_meter_rearms_notice", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), {after: time.Minute, what: "topup", arg: "30"}, reply(time.Second, AnswerOne), fire(TimerNotice),
	}},
	{name: "stale_and_duplicate_inputs", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), {what: "fire_stale", arg: string(TimerNotice)}, reply(time.Second, AnswerOne), reply(time.Second, AnswerOne),
		charge(time.Second, ChargeSucceeded), charge(time.Second, ChargeSucceeded), ack(time.Second, true), ack(time.Second, true),
	}},
	{name: "voice_option1_keypad", user: withVoice(driver), paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), vreply(10*time.Second, AnswerOne), vreply(10*time.Second, AnswerOne),
		charge(time.Second, ChargeSucceeded), ack(time.Second, true),
	}},
	{name: "voice_zh_hk_cancel_then_app", user: withLang(withVoice(driver), "zh-HK"), paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), vreply(10*time.Second, AnswerOne), vreply(10*time.Second, AnswerTwo), vreply(5*time.Second, AnswerThree),
	}},
	{name: "voice_unanswered_falls_back_to_sms", user: withLang(withVoice(driver), "zh-CN"), paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), {after: 30 * time.Second, what: "callfail", arg: "no-answer"}, reply(time.Minute, AnswerOne),
	}},
	{name: "escalation_push_sms_voice_answered_by_keypad", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		{what: "open_facts", facts: Facts{Known: true, HasApp: true}}, fire(TimerNotice), fire(TimerEscalate), fire(TimerEscalate),
		vreply(20*time.Second, AnswerOne), vreply(10*time.Second, AnswerOne), charge(time.Second, ChargeSucceeded), ack(time.Second, true),
	}},
	{name: "escalation_stopped_by_sms_answer", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		{what: "open_facts", facts: Facts{Known: true, HasApp: true}}, fire(TimerNotice), fire(TimerEscalate),
		reply(30*time.Second, AnswerOne), fire(TimerEscalate), reply(5*time.Second, AnswerTwo),
	}},
	{name: "escalation_push_without_device_moves_on_at_once", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		{what: "open_facts", facts: Facts{Known: true, HasApp: true}}, fire(TimerNotice), {after: 2 * time.Second, what: "sendfail", arg: ChannelPush},
		{after: 10 * time.Second, what: "sendfail", arg: ChannelSMS}, {after: 20 * time.Second, what: "callfail", arg: "busy"},
	}},
	{name: "quiet_hours_skip_the_call", user: driver, paid: 30 * time.Minute, start: time.Date(2026, 11, 21, 14, 50, 0, 0, time.UTC), steps: []scenarioStep{
		fire(TimerNotice), fire(TimerEscalate), fire(TimerGraceEnd),
	}},
	{name: "escalation_skips_opted_out_sms_for_a_call", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		{what: "open_facts", facts: Facts{Known: true, SMSOptedOut: true}}, fire(TimerNotice),
	}},
	{name: "app_answer_inline_and_push_confirmation", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		{what: "open_facts", facts: Facts{Known: true, HasApp: true}}, fire(TimerNotice),
		{after: 20 * time.Second, what: "areply", arg: "1"}, {after: 5 * time.Second, what: "areply", arg: "yes"},
		charge(time.Second, ChargeSucceeded), ack(time.Second, true),
	}},
	{name: "voice_hangup_at_quote_texts_the_quote", user: withVoice(driver), paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), vreply(10*time.Second, AnswerOne), {after: 5 * time.Second, what: "callended"},
		reply(time.Minute, AnswerOne), charge(time.Second, ChargeSucceeded),
	}},
	{name: "voice_hangup_at_quote_opted_out_goes_to_the_app", user: withVoice(driver), paid: 30 * time.Minute, steps: []scenarioStep{
		{what: "open_facts", facts: Facts{Known: true, HasApp: true, SMSOptedOut: true}}, fire(TimerNotice),
		vreply(10*time.Second, AnswerOne), {after: 5 * time.Second, what: "callended", facts: Facts{Known: true, HasApp: true, SMSOptedOut: true}},
	}},
	{name: "voice_hangup_after_confirming_says_nothing_more", user: withVoice(driver), paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), vreply(10*time.Second, AnswerOne), vreply(10*time.Second, AnswerOne), {after: 5 * time.Second, what: "callended"},
	}},
	{name: "inbound_call_menu_after_renewal_quotes_again", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), charge(time.Second, ChargeSucceeded),
		ack(time.Second, true), vreply(time.Minute, AnswerOne), {after: time.Minute, what: "callmenu"}, vreply(10*time.Second, AnswerOne),
	}},
	{name: "stop_then_start_brings_the_stay_back", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), {after: time.Second, what: "optout"},
		{after: time.Minute, what: "optin", facts: Facts{Known: true}}, fire(TimerNotice), reply(time.Second, AnswerOne),
	}},
	{name: "start_after_the_grace_period_changes_nothing", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), {after: time.Second, what: "optout"}, {after: time.Hour, what: "optin", facts: Facts{Known: true}},
	}},
	{name: "reply_while_charging_and_after", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne), reply(time.Second, AnswerOne),
		charge(time.Second, ChargeSucceeded), reply(time.Second, AnswerOne), ack(time.Second, true), reply(time.Second, AnswerOne),
	}},
	// A confirmation that no retry could hand to the carrier: no channel is
	// left after a text, so the operator is told.
	{name: "undelivered_confirmation_alerts_operator", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerYes),
		charge(time.Second, ChargeSucceeded), ack(time.Second, true), {after: time.Hour, what: "lost", arg: SendExhausted},
	}},
	// A notice that expired before it could be sent is not sent elsewhere
	// either: the grace period carries the conversation on.
	{name: "expired_notice_is_not_resent", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), {after: 10 * time.Minute, what: "lost", arg: SendExpired}, fire(TimerGraceEnd),
	}},
	// The conversation has ended, but its last word still has to arrive:
	// a lost "ended" text from a call falls back to a text; a lost text
	// alerts the operator.
	{name: "lost_after_the_end_is_reported", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), fire(TimerGraceEnd), {after: time.Minute, what: "lost", arg: SendFailedPermanently},
	}},
	// The gateway took the money but could not say so: the driver hears the
	// payment is being checked, a "1" charges nothing more, and lookups
	// settle it.
	{name: "charge_unknown_resolved_by_lookup", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerYes),
		charge(time.Minute, ChargeUnknown), reply(time.Second, AnswerOne),
		fire(TimerChargeCheck), charge(time.Second, ChargeUnknown), fire(TimerChargeCheck), charge(time.Second, ChargeSucceeded),
		ack(time.Second, true),
	}},
	// The lookup finds nothing recorded: now, and only now, nothing was
	// charged, and a new "1" may charge under a new key.
	{name: "charge_unknown_not_recorded", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerYes),
		charge(time.Minute, ChargeUnknown), fire(TimerChargeCheck), charge(time.Second, ChargeUnavailable),
		reply(time.Second, AnswerOne), reply(time.Second, AnswerYes),
	}},
	// Unresolved for longer than the grace period and past give_up_after:
	// the operator is asked to settle it, and lookups go on.
	{name: "charge_unknown_for_hours", user: driver, paid: 30 * time.Minute, steps: []scenarioStep{
		fire(TimerNotice), reply(time.Second, AnswerOne), reply(time.Second, AnswerYes), charge(time.Minute, ChargeUnknown),
		fire(TimerChargeCheck), charge(time.Second, ChargeUnknown), fire(TimerChargeCheck), charge(time.Second, ChargeUnknown),
		fire(TimerChargeCheck), charge(time.Second, ChargeUnknown), fire(TimerChargeCheck), charge(time.Second, ChargeUnknown),
		fire(TimerChargeCheck), charge(time.Second, ChargeUnknown), fire(TimerChargeCheck), charge(time.Second, ChargeUnknown),
		{after: 12 * time.Hour, what: "fire", arg: string(TimerChargeCheck)}, charge(12*time.Hour, ChargeUnknown),
		fire(TimerChargeCheck), charge(time.Second, ChargeDeclined),
	}},
}

// runScenario drives Step through a scenario and writes a transcript of
// every input, the state it leads to, and every effect with exact texts.
func runScenario(t *testing.T, set *Settings, sc scenario) string {
	t.Helper()
	var b strings.Builder
	now := t0
	if !sc.start.IsZero() {
		now = sc.start
	}
	loc := set.Location()
	p := PaymentInput{TxnID: "T1", MeterID: "MTR-0001", Bay: "12", Zone: sc.zone, Location: "Queen's Road Central", CardToken: sc.user.CardToken, PaidAt: now, PaidUntil: now.Add(sc.paid)}
	var st State
	var effects []Effect
	write := func(label string, prev State) {
		fmt.Fprintf(&b, "%s  %s\n", now.In(loc).Format("15:04:05"), label)
		if st.Version == prev.Version && prev.ID != "" {
			fmt.Fprintf(&b, "    (no change: %s v%d)\n", st.Phase, st.Version)
			return
		}
		fmt.Fprintf(&b, "    -> %s v%d, paid until %s", st.Phase, st.Version, st.PaidUntil.In(loc).Format("15:04"))
		if st.Quote != nil {
			fmt.Fprintf(&b, ", quote %s until %s", st.Quote.Amount.Format(st.Quote.Currency), st.Quote.Until.In(loc).Format("15:04"))
		}
		b.WriteString("\n")
		var armed []string
		for k, tm := range st.Timers {
			armed = append(armed, fmt.Sprintf("%s@%s", k, tm.At.In(loc).Format("15:04:05")))
		}
		sort.Strings(armed)
		if len(armed) > 0 {
			fmt.Fprintf(&b, "    timers: %s\n", strings.Join(armed, " "))
		}
		for _, e := range effects {
			fmt.Fprintf(&b, "    %s\n", DescribeEffect(e, loc))
		}
	}
	first := scenarioStep{}
	if len(sc.steps) > 0 && sc.steps[0].what == "open_facts" {
		first, sc.steps = sc.steps[0], sc.steps[1:]
	}
	st, effects = Open(set, sc.user, p, first.facts, now)
	write(fmt.Sprintf("payment %s at %s bay %s for %s", p.TxnID, p.MeterID, p.Bay, sc.paid), State{})
	for _, s := range sc.steps {
		var in Input
		switch s.what {
		case "fire", "fire_stale":
			tm, ok := st.Timers[TimerKind(s.arg)]
			if s.what == "fire_stale" {
				tm, ok = Timer{ID: st.ID + ":0:stale"}, true
			}
			if !ok {
				fmt.Fprintf(&b, "%s  timer %s is not armed\n", now.In(loc).Format("15:04:05"), s.arg)
				continue
			}
			if tm.At.After(now) {
				now = tm.At
			}
			in = Input{Kind: InputTimer, Timer: &TimerInput{Kind: TimerKind(s.arg), ID: tm.ID}}
		case "reply", "vreply", "areply":
			now = now.Add(s.after)
			ch := map[string]string{"reply": ChannelSMS, "vreply": ChannelVoice, "areply": ChannelApp}[s.what]
			in = Input{Kind: InputReply, Reply: &ReplyInput{Answer: Answer(s.arg), Channel: ch}, Facts: s.facts}
		case "sendfail":
			now = now.Add(s.after)
			last := lastSend(effects)
			in = Input{Kind: InputSendFailed, Send: &SendFailure{EffectID: last.ID, Channel: s.arg, Template: last.Send.Template, Reason: "undelivered"}}
		case "lost":
			// The last message ended undelivered for the reason in arg.
			now = now.Add(s.after)
			last := lastSend(effects)
			in = Input{Kind: InputSendFailed, Send: &SendFailure{EffectID: last.ID, Channel: last.Send.Channel, Template: last.Send.Template, Reason: s.arg}}
		case "callfail":
			now = now.Add(s.after)
			last := lastSend(effects)
			in = Input{Kind: InputSendFailed, Send: &SendFailure{EffectID: last.ID, Channel: ChannelVoice, Template: last.Send.Template, Reason: s.arg}}
		case "charge":
			now = now.Add(s.after)
			key := st.ID + ":charge:" + itoa(st.Attempts)
			in = Input{Kind: InputCharge, Charge: &ChargeResult{Key: key, Outcome: ChargeOutcome(s.arg), ChargeID: "ch_" + itoa(st.Attempts)}}
		case "ack":
			now = now.Add(s.after)
			r := st.Renewals[len(st.Renewals)-1]
			in = Input{Kind: InputMeterAck, Ack: &AckInput{CommandID: r.CommandID, Applied: s.arg == "true", PaidUntil: r.Until, Reason: s.detail}}
		case "supersede":
			now = now.Add(s.after)
			in = Input{Kind: InputSuperseded}
		case "optout":
			now = now.Add(s.after)
			in = Input{Kind: InputOptOut}
		case "callended":
			now = now.Add(s.after)
			in = Input{Kind: InputCallEnded, Facts: s.facts}
		case "callmenu":
			now = now.Add(s.after)
			in = Input{Kind: InputCallMenu}
		case "optin":
			now = now.Add(s.after)
			in = Input{Kind: InputOptIn, Facts: s.facts}
		case "topup":
			now = now.Add(s.after)
			q := p
			q.TxnID, q.PaidAt, q.PaidUntil = "T2", now, st.PaidUntil.Add(30*time.Minute)
			in = Input{Kind: InputPayment, Payment: &q}
		default:
			t.Fatalf("unknown step %q", s.what)
		}
		prev := st
		st, effects = Step(set, st, in, now)
		write(DescribeInput(in, loc), prev)
	}
	return b.String()
}

func TestTranscripts(t *testing.T) {
	set, err := LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if seen[sc.name] {
				t.Fatalf("duplicate scenario name")
			}
			seen[sc.name] = true
			got := runScenario(t, set, sc)
			path := filepath.Join("testdata", "transcripts", sc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `go test ./workflows/engine -run TestTranscripts -update` to create it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript %s differs from %s (rerun with -update after checking):\n--- got\n%s\n--- want\n%s", sc.name, path, got, want)
			}
		})
	}
}
