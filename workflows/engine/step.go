package engine

import (
	"fmt"
	"strings"
	"time"
)

// Step is the conversation engine: given the operator's settings, the current
// state, an input and the time, it returns the new state and the effects to
// carry out. It is pure: it reads no clock, store or network. A returned
// state equal in version to the argument means the input changed nothing.
func Step(set *Settings, st State, in Input, now time.Time) (State, []Effect) {
	s := &stepper{set: set, st: st.clone(), now: now}
	if in.Kind == InputReply && in.Reply != nil {
		switch in.Reply.Channel {
		case ChannelVoice, ChannelApp:
			s.inline, s.replyChannel = true, in.Reply.Channel
		}
	}
	if in.Facts.Known {
		// Not a change by itself: saved with the next real change.
		s.st.HasApp, s.st.SMSOptedOut = in.Facts.HasApp, in.Facts.SMSOptedOut
	}
	// An ended conversation only hears that its last message was lost, or,
	// when STOP ended it, that the driver sent START.
	if st.Phase.Terminal() && in.Kind != InputSendFailed && (in.Kind != InputOptIn || st.Phase != PhaseOptedOut) {
		return st, nil
	}
	switch in.Kind {
	case InputPayment:
		s.payment(in)
	case InputTimer:
		s.timer(in)
	case InputReply:
		s.reply(in)
	case InputCharge:
		s.charge(in)
	case InputMeterAck:
		s.meterAck(in)
	case InputSuperseded:
		s.superseded()
	case InputOptOut:
		s.optOut()
	case InputSendFailed:
		s.sendFailed(in)
	case InputCallEnded:
		s.callEnded()
	case InputCallMenu:
		s.callMenu()
	case InputOptIn:
		s.optIn()
	}
	if !s.changed {
		return st, nil
	}
	s.st.Version = st.Version + 1
	s.st.UpdatedAt = now
	return s.st, s.effects
}

// Open starts the conversation for a payment at a bay by a registered card.
// The conversation id is derived from the meter transaction, so a payment
// uploaded twice opens one conversation.
func Open(set *Settings, u User, p PaymentInput, facts Facts, now time.Time) (State, []Effect) {
	st := State{
		ID: ConversationID(p.MeterID, p.TxnID), Version: 1, Phase: PhaseParked,
		UserID: u.ID, Phone: u.Phone, Language: set.Language(u.Language),
		CardToken: u.CardToken, CardLast4: u.CardLast4, CardKind: u.CardKind,
		Channels: set.channelOrder(preferred(u)), LeadTime: set.ClampLeadTime(u.LeadTime),
		CallsInQuietHours: u.CallsInQuietHours, HasApp: facts.HasApp, SMSOptedOut: facts.SMSOptedOut,
		MeterID: p.MeterID, Bay: p.Bay, Zone: p.Zone, Location: p.Location,
		Payments: []string{p.TxnID}, StayStart: p.PaidAt, PaidUntil: p.PaidUntil,
		Timers: map[TimerKind]Timer{}, CreatedAt: now, UpdatedAt: now,
	}
	s := &stepper{set: set, st: st, now: now}
	switch {
	case facts.PhoneBlacklisted != "":
		s.refuse("blacklisted_phone")
	case facts.CardBlacklisted != "":
		s.refuse("blacklisted_card")
	default:
		s.armNotice()
	}
	return s.st, s.effects
}

func preferred(u User) []string {
	if len(u.Channels) > 0 {
		return u.Channels
	}
	if u.Channel != "" {
		return []string{u.Channel}
	}
	return nil
}

// ConversationID is the id of the conversation opened by a meter transaction.
func ConversationID(meterID, txnID string) string {
	clean := func(v string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				return r
			}
			return '_'
		}, v)
	}
	return "c-" + clean(meterID) + "-" + clean(txnID)
}

// Prompt renders message template for a conversation as it stands, spoken
// (voice) or written. Call handlers use it to speak the current prompt.
func Prompt(set *Settings, st State, template string, voice bool) (string, error) {
	s := &stepper{set: set, st: st}
	if voice {
		return set.RenderVoice(st.Language, template, s.data())
	}
	return set.Render(st.Language, template, s.data())
}

// stepper accumulates the new state and effects of one step.
type stepper struct {
	set     *Settings
	st      State
	now     time.Time
	effects []Effect
	changed bool
	// inline is set while answering a reply in a call or in the app:
	// messages go back in the answer instead of being sent.
	inline       bool
	replyChannel string
}

// Channels.
const (
	ChannelSMS   = "sms"
	ChannelVoice = "voice"
)

func (s *stepper) nextID(kind string) string {
	s.st.Seq++
	return fmt.Sprintf("%s:%d:%s", s.st.ID, s.st.Seq, kind)
}

func (s *stepper) emit(e Effect) {
	s.changed = true
	s.effects = append(s.effects, e)
}

func (s *stepper) setPhase(p Phase) {
	s.changed = true
	s.st.Phase = p
	if p.Terminal() {
		s.st.Timers = map[TimerKind]Timer{}
		s.st.Quote = nil
	}
}

// escalating are the prompts that move across channels until answered.
var escalating = map[string]bool{"notice": true, "grace_alert": true}

// prompts go out on the driver's channels in escalation order.
var prompts = map[string]bool{"notice": true, "grace_alert": true, "notice_debit": true, "notice_max_stay": true}

// send renders a template for the driver and emits it on the right
// channel: back in the answer while replying in a call or the app; prompts
// on the escalation's channels; everything else on the channel the driver
// uses. prompt marks messages that ask the driver something, so replies
// are routed here.
func (s *stepper) send(template string, prompt bool) {
	switch {
	case s.inline:
		s.sendOn(s.replyChannel, template, prompt, true)
	case prompts[template]:
		s.promptOn(template)
	default:
		s.sendOn(s.asyncChannel(), template, prompt, false)
	}
}

// promptOn starts a prompt's escalation on the first available channel.
func (s *stepper) promptOn(template string) {
	s.st.Prompt, s.st.Esc, s.st.AnsweredOn = template, -1, ""
	s.disarm(TimerEscalate)
	if !s.escalate() {
		// The expiry notice is always sent: by text when nothing else can.
		s.st.Esc = len(s.st.Channels)
		s.sendOn(ChannelSMS, template, true, false)
	}
}

// escalate sends the current prompt on the next available channel and arms
// the step after it. It reports false when no channel is left.
func (s *stepper) escalate() bool {
	chans := s.st.Channels
	if len(chans) == 0 {
		chans = []string{ChannelSMS}
	}
	for i := s.st.Esc + 1; i < len(chans); i++ {
		if why := s.unavailable(chans[i]); why != "" {
			s.skipped(chans[i], why)
			continue
		}
		s.st.Esc = i
		s.sendOn(chans[i], s.st.Prompt, true, false)
		if escalating[s.st.Prompt] && i+1 < len(chans) {
			s.arm(TimerEscalate, s.now.Add(s.set.delayAt(i+1)))
		}
		return true
	}
	return false
}

// unavailable says why a channel cannot reach the driver now ("" when it
// can).
func (s *stepper) unavailable(ch string) SkipReason {
	switch ch {
	case ChannelPush:
		if !s.st.HasApp {
			return SkipNoApp
		}
	case ChannelSMS:
		if s.st.SMSOptedOut {
			return SkipSMSOptedOut
		}
	case ChannelVoice:
		if !s.st.CallsInQuietHours && s.set.Quiet(s.now) {
			return SkipQuietHours
		}
	default:
		return SkipUnknownChannel
	}
	return ""
}

// skipped notes in the history that the escalation passed over a channel.
// A note alone is no change: it is kept only with the step's real changes.
func (s *stepper) skipped(ch string, why SkipReason) {
	s.effects = append(s.effects, Effect{Kind: EffectNote, Note: &Note{Skipped: ch, Reason: why}})
}

// current is the channel the current prompt was last sent on.
func (s *stepper) current() string {
	if s.st.Esc >= 0 && s.st.Esc < len(s.st.Channels) {
		return s.st.Channels[s.st.Esc]
	}
	return ChannelSMS
}

// asyncChannel carries messages that answer nothing in particular: the
// channel the driver answered on, else the one the prompt reached them on.
// Calls are never placed just to say something.
func (s *stepper) asyncChannel() string {
	switch s.st.AnsweredOn {
	case ChannelSMS:
		return ChannelSMS
	case ChannelApp, ChannelPush:
		if s.st.HasApp {
			return ChannelPush
		}
		return ChannelSMS
	case ChannelVoice:
		if s.st.HasApp {
			return ChannelPush
		}
		return ChannelSMS
	}
	if c := s.current(); c == ChannelPush && s.st.HasApp {
		return ChannelPush
	}
	return ChannelSMS
}

func (s *stepper) sendOn(channel, template string, prompt, inline bool) {
	render := s.set.Render
	if channel == ChannelVoice {
		render = s.set.RenderVoice
	}
	body, err := render(s.st.Language, template, s.data())
	if err != nil {
		// Settings are validated at start-up with sample data; a render
		// failure here is a programming error surfaced in the message.
		body = fmt.Sprintf("[%s: %v]", template, err)
	}
	// Never valid past what the message refers to (the paid-until time, the
	// quote's expiry, the grace end), so a late text is dropped by the carrier
	// instead of arriving after the fact.
	valid := s.validUntil(template)
	if prompt {
		s.st.LastPromptAt = s.now
	}
	s.emit(Effect{ID: s.nextID("send"), Kind: EffectSend, Send: &Send{
		Channel: channel, Inline: inline, To: s.st.Phone, Language: s.st.Language, Template: template, Body: body, ValidUntil: valid,
	}})
}

// arm sets a timer; a timer already armed of the same kind is replaced.
func (s *stepper) arm(kind TimerKind, at time.Time) {
	if at.Before(s.now) {
		at = s.now
	}
	id := s.nextID("timer-" + string(kind))
	s.st.Timers[kind] = Timer{ID: id, At: at}
	s.emit(Effect{ID: id, Kind: EffectArmTimer, Timer: &TimerEffect{Kind: kind, At: at}})
}

func (s *stepper) disarm(kinds ...TimerKind) {
	for _, k := range kinds {
		if _, ok := s.st.Timers[k]; ok {
			delete(s.st.Timers, k)
			s.changed = true
		}
	}
}

func (s *stepper) alert(code, msg string) {
	s.emit(Effect{ID: s.nextID("alert"), Kind: EffectOperatorAlert, Alert: &AlertEffect{Code: code, Message: msg}})
}

func (s *stepper) refuse(template string) {
	s.send(template, false)
	s.setPhase(PhaseRefused)
}

// armNotice arms the expiry notice for the current paid-until and the end of
// the grace period.
func (s *stepper) armNotice() {
	s.disarm(TimerGraceAlert, TimerMeterAck, TimerEscalate)
	lead := s.st.LeadTime
	if lead == 0 {
		lead = s.set.LeadTime
	}
	s.arm(TimerNotice, s.st.PaidUntil.Add(-lead))
	s.arm(TimerGraceEnd, s.st.GraceEnd(s.set))
	s.setPhase(PhaseParked)
}

func (s *stepper) clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.set.Location()).Format("15:04")
}

func (s *stepper) data() MessageData {
	d := MessageData{
		Operator: s.set.Operator, HelpContact: s.set.HelpContact, Location: s.st.Location, Bay: s.st.Bay,
		Expiry: s.clock(s.st.PaidUntil), GraceEnd: s.clock(s.st.GraceEnd(s.set)), Last4: s.st.CardLast4,
		Minutes: int(s.set.ExtensionStep / time.Minute), MaxStay: formatDuration(s.set.MaximumStayFor(s.st.Zone)),
		Link: s.set.AppRenewURL + "?c=" + s.st.ID,
	}
	if t, ok := s.st.Timers[TimerGraceAlert]; ok {
		d.AlertAt = s.clock(t.At)
	}
	lang, loc := s.st.Language, s.set.Location()
	var newUntil time.Time
	if q := s.st.Quote; q != nil {
		newUntil = q.Until
		d.Amount, d.SpokenAmount = q.Amount.Format(q.Currency), SpokenAmount(lang, q.Amount, q.Currency)
		d.Minutes = int(q.Until.Sub(q.From) / time.Minute)
	} else if n := len(s.st.Renewals); n > 0 {
		r := s.st.Renewals[n-1]
		newUntil = r.Until
		d.Amount, d.SpokenAmount = r.Amount.Format(r.Currency), SpokenAmount(lang, r.Amount, r.Currency)
		d.Minutes = int(r.Until.Sub(r.From) / time.Minute)
	}
	d.NewExpiry = s.clock(newUntil)
	if !newUntil.IsZero() {
		d.SpokenNewExpiry = SpokenTime(lang, newUntil.In(loc))
	}
	d.SpokenExpiry = SpokenTime(lang, s.st.PaidUntil.In(loc))
	d.SpokenGraceEnd = SpokenTime(lang, s.st.GraceEnd(s.set).In(loc))
	return d
}

func formatDuration(d time.Duration) string {
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case sec != 0 && h == 0 && m == 0:
		return fmt.Sprintf("%ds", sec)
	case sec != 0:
		return d.Truncate(time.Second).String()
	case m == 0:
		return fmt.Sprintf("%dh", h)
	case h == 0:
		return fmt.Sprintf("%dmin", m)
	}
	return fmt.Sprintf("%dh%02d", h, m)
}
