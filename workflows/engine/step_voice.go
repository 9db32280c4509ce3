package engine

// callEnded handles the end of a call the driver answered. A driver who
// hangs up at the spoken quote gets it as a text (or in the app when texts
// are opted out), so the renewal can still be confirmed by reply.
func (s *stepper) callEnded() {
	if s.st.Phase != PhaseQuoted || s.st.Quote == nil {
		return
	}
	switch {
	case !s.st.SMSOptedOut:
		s.sendOn(ChannelSMS, s.quoteTemplate(), true, false)
	case s.st.HasApp:
		s.sendOn(ChannelPush, s.quoteTemplate(), true, false)
	}
}

// callMenu records that a call the driver placed offered the menu: it is a
// prompt like the notice, so a 1 pressed now asks for a new quote even
// after an earlier renewal.
func (s *stepper) callMenu() {
	switch s.st.Phase {
	case PhaseParked, PhaseOffered, PhaseAlertSet, PhaseAppLink:
		s.st.LastPromptAt = s.now
		s.changed = true
	}
}

// optIn brings back a stay the driver's STOP ended, if it is still paid or
// in its grace period: the expiry notice is armed again (at once when it is
// already due), so the driver's next reply finds it.
func (s *stepper) optIn() {
	if s.st.Phase != PhaseOptedOut || !s.now.Before(s.st.GraceEnd(s.set)) {
		return
	}
	s.st.SMSOptedOut = false
	s.armNotice()
}
