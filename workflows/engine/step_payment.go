package engine

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
