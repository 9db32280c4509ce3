package workflows

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
	}
}

// notice sends the expiry notice: the menu, or the reason there is none.
func (s *stepper) notice() {
	if s.st.Phase != PhaseParked {
		return
	}
	switch {
	case s.st.CardKind == CardDebit:
		s.send("notice_debit", true)
		s.setPhase(PhaseAppLink)
	case !s.canExtend():
		s.send("notice_max_stay", false)
	default:
		s.offer("notice")
	}
}

// offer sends a message carrying the 1/2/3 menu and waits for the answer.
func (s *stepper) offer(template string) {
	s.st.Quote = nil
	s.send(template, true)
	s.setPhase(PhaseOffered)
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
