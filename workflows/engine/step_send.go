package engine

// Why a message was not delivered (SendFailure.Reason). Channels report
// their own finer causes too (busy, no-answer, voicemail, undelivered).
const (
	// SendFailedPermanently: the provider refused it (bad number, no device).
	SendFailedPermanently = "failed"
	// SendExpired: it was no longer valid before it could be handed over.
	SendExpired = "expired"
	// SendExhausted: every retry failed or left the outcome unknown.
	SendExhausted = "exhausted"
)

// sendFailed is the one rule for a message that did not reach the driver,
// whatever the channel and whatever the cause:
//
//  1. an opt-out reported by the carrier ends the conversation;
//  2. a message whose deadline passed is not sent elsewhere: any copy would
//     be as late (the timers carry the conversation on);
//  3. the unanswered prompt moves to the next channel of the escalation at
//     once, and to a text when none is left;
//  4. any other message falls back to a text (from a call or the app);
//  5. when even a text cannot reach the driver, the operator is alerted.
func (s *stepper) sendFailed(in Input) {
	f := in.Send
	if f == nil {
		return
	}
	ended := s.st.Phase.Terminal()
	switch {
	case f.OptOut:
		if !ended {
			s.optOut()
		}
		return
	case f.Reason == SendExpired || s.expired(f.Template):
		// What the message referred to is over (the paid time, the quote,
		// the grace period): no other channel would be any more timely. A
		// call about the notice promised a text instead; once the paid time
		// is over that text is the grace alert, which is still true.
		s.changed = true // recorded in the history
		if !ended && f.Channel == ChannelVoice && f.Template == "notice" && s.st.Phase.AwaitingDriver() && !s.expired("grace_alert") {
			s.sendOn(s.asyncChannel(), "grace_alert", true, false)
		}
		return
	case f.Template == "" || f.Template == "dismiss":
		return
	}
	s.changed = true
	prompt := prompts[f.Template]
	if !ended && s.st.Phase == PhaseOffered && s.st.AnsweredOn == "" && f.Channel == s.current() && f.Template == s.st.Prompt {
		// The prompt did not reach the driver (no app device, undelivered
		// text, call not answered): the next channel at once.
		s.disarm(TimerEscalate)
		if s.escalate() {
			return
		}
	}
	next := ""
	switch {
	case f.Channel == ChannelVoice && s.st.HasApp && !prompt:
		next = ChannelPush
	case f.Channel != ChannelSMS && !s.st.SMSOptedOut:
		next = ChannelSMS
	}
	if next == "" {
		s.alert("driver_unreachable", "message "+f.Template+" could not reach the driver by "+f.Channel+" ("+f.Reason+") and no other channel is left")
		return
	}
	s.sendOn(next, f.Template, prompt || (!ended && s.st.Phase.AwaitingDriver()), false)
}
