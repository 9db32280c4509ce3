package workflows

// payment handles another payment at the bay by the same card (topping up at
// the meter): the paid time moves and the notice is armed again.
func (s *stepper) payment(in Input) {
	p := in.Payment
	if p == nil || contains(s.st.Payments, p.TxnID) {
		return
	}
	s.st.Payments = append(s.st.Payments, p.TxnID)
	s.changed = true
	if s.st.Phase == PhaseCharging || s.st.Phase == PhaseRenewing {
		// A renewal is already under way; it will extend from the later time.
		if p.PaidUntil.After(s.st.PaidUntil) {
			s.st.PaidUntil = p.PaidUntil
		}
		return
	}
	if p.PaidUntil.After(s.st.PaidUntil) {
		s.st.PaidUntil = p.PaidUntil
	}
	s.st.Quote = nil
	s.armNotice()
}

// superseded ends the conversation because another driver paid at the bay.
// A driver who was being asked about a renewal is told; a driver who was
// not being asked anything is not disturbed.
func (s *stepper) superseded() {
	switch {
	case s.st.Phase.AwaitingDriver():
		s.send("superseded", false)
	case s.st.Phase == PhaseParked:
	default:
		return // a confirmed renewal in flight completes
	}
	s.setPhase(PhaseSuperseded)
}

// optOut stops every message of this conversation.
func (s *stepper) optOut() {
	if s.st.Phase == PhaseCharging || s.st.Phase == PhaseRenewing {
		// The renewal was confirmed; it completes, silently.
		return
	}
	s.setPhase(PhaseOptedOut)
}

// sendFailed records a permanent delivery failure. An opt-out reported by the
// carrier ends the conversation; other failures leave the timers to end it.
func (s *stepper) sendFailed(in Input) {
	f := in.Send
	switch {
	case f == nil:
	case f.OptOut:
		s.optOut()
	case s.expired(f.Template):
		// What the message referred to is over (the paid time, the quote,
		// the grace period): no other channel would be any more timely. A
		// call about the notice promised a text instead; once the paid time
		// is over that text is the grace alert, which is still true.
		if f.Channel == ChannelVoice && f.Template == "notice" && s.st.Phase.AwaitingDriver() && !s.expired("grace_alert") {
			s.sendOn(s.asyncChannel(), "grace_alert", true, false)
		}
	case s.st.Phase == PhaseOffered && s.st.AnsweredOn == "" && f.Channel == s.current() && f.Template == s.st.Prompt:
		// The prompt did not reach the driver (no app device, undelivered
		// text, call not answered): the next channel at once.
		s.disarm(TimerEscalate)
		if !s.escalate() && f.Channel != ChannelSMS {
			s.sendOn(ChannelSMS, f.Template, true, false)
		}
	case f.Channel == ChannelVoice && f.Template != "" && s.st.Phase.AwaitingDriver():
		// A call that ended without an answer (voicemail, silence, PIN
		// lockout): the same message goes on by text or app.
		s.sendOn(s.asyncChannel(), f.Template, true, false)
	}
}
