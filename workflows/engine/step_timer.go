package engine

// timer handles a fired timer; a timer that is no longer armed is stale.
func (s *stepper) timer(in Input) {
	t := in.Timer
	if t == nil {
		return
	}
	armed, ok := s.st.Timers[t.Kind]
	if !ok || armed.ID != t.ID {
		return
	}
	delete(s.st.Timers, t.Kind)
	s.changed = true
	switch t.Kind {
	case TimerNotice:
		s.notice()
	case TimerGraceAlert:
		s.offer("grace_alert")
	case TimerGraceEnd:
		s.graceEnd()
	case TimerMeterAck:
		s.meterTimeout()
	case TimerChargeCheck:
		s.chargeCheck()
	case TimerEscalate:
		if s.st.Phase == PhaseOffered && s.st.AnsweredOn == "" {
			s.escalate()
		}
	}
}

// notice sends the expiry notice: the menu, or the reason there is none.
func (s *stepper) notice() {
	if s.st.Phase != PhaseParked {
		return
	}
	switch {
	case s.st.CardKind == CardDebit:
		s.setPhase(PhaseAppLink)
		s.send("notice_debit", true)
	case !s.canExtend():
		s.send("notice_max_stay", false)
	default:
		s.offer("notice")
	}
}

// offer sends a message carrying the 1/2/3 menu and waits for the answer.
func (s *stepper) offer(template string) {
	s.st.Quote = nil
	s.setPhase(PhaseOffered)
	s.send(template, true)
}

// graceEnd closes a stay that was not renewed.
func (s *stepper) graceEnd() {
	switch s.st.Phase {
	case PhaseCharging, PhaseRenewing:
		return // the renewal decides
	}
	s.send("ended", false)
	s.setPhase(PhaseEnded)
}
