package engine

import "time"

// reply handles the driver's answer in each phase.
func (s *stepper) reply(in Input) {
	r := in.Reply
	if r == nil {
		return
	}
	if s.st.AnsweredOn != r.Channel || s.st.Timers[TimerEscalate].ID != "" {
		s.changed = true
	}
	s.st.AnsweredOn = r.Channel
	if _, ok := s.st.Timers[TimerEscalate]; ok {
		// Any answer stops the escalation and closes the prompt in the app.
		s.disarm(TimerEscalate)
		if s.st.HasApp && r.Channel != ChannelApp && r.Channel != ChannelPush && contains(s.st.Channels[:max(0, min(s.st.Esc+1, len(s.st.Channels)))], ChannelPush) {
			s.emit(Effect{ID: s.nextID("dismiss"), Kind: EffectSend, Send: &Send{Channel: ChannelPush, To: s.st.Phone, Language: s.st.Language, Template: "dismiss", ValidUntil: s.now.Add(s.set.LeadTime)}})
		}
	}
	if in.Facts.PhoneBlacklisted != "" {
		s.refuse("blacklisted_phone")
		return
	}
	switch s.st.Phase {
	case PhaseOffered, PhaseAlertSet, PhaseAppLink:
		s.menuAnswer(r.Answer, in.Facts)
	case PhaseQuoted:
		s.quoteAnswer(r.Answer, in.Facts)
	case PhaseCharging, PhaseRenewing:
		if s.st.ChargeCheck != nil {
			s.send("payment_checking", false)
			return
		}
		s.send("processing", false)
	case PhaseParked:
		// Before the notice the driver may extend at once; a late answer to
		// an offer that was already renewed (on any channel) only hears the
		// new paid-until, never a second quote.
		n := len(s.st.Renewals)
		renewed := n > 0 && !s.st.Renewals[n-1].RecordedAt.Before(s.st.LastPromptAt)
		if (r.Answer == AnswerOne || r.Answer == AnswerYes) && !renewed && s.canExtend() && s.st.CardKind != CardDebit {
			s.quote(in.Facts)
			return
		}
		s.send("status", false)
	}
}

func (s *stepper) menuAnswer(a Answer, f Facts) {
	switch a {
	case AnswerOne, AnswerYes:
		s.quote(f)
	case AnswerTwo:
		s.scheduleAlert()
	case AnswerThree:
		s.send("app_link", true)
		if s.replyChannel == ChannelVoice {
			// The call says a link was texted: text it.
			s.sendOn(ChannelSMS, "app_link", true, false)
		}
		s.setPhase(PhaseAppLink)
	case AnswerNo:
		s.send("declined_offer", false)
		s.setPhase(PhaseEnded)
	default:
		s.send("menu", true)
	}
}

func (s *stepper) quoteAnswer(a Answer, f Facts) {
	switch a {
	case AnswerOne, AnswerYes:
		s.confirm(f)
	case AnswerTwo, AnswerNo:
		s.st.Quote = nil
		s.send("quote_cancelled", true)
		s.setPhase(PhaseOffered)
	default:
		s.send(s.quoteTemplate(), true)
	}
}

// maxUntil is the latest paid-until the maximum stay allows.
func (s *stepper) maxUntil() time.Time {
	return s.st.StayStart.Add(s.set.MaximumStayFor(s.st.Zone))
}

func (s *stepper) canExtend() bool { return s.st.PaidUntil.Before(s.maxUntil()) }

// quote prices one extension step from the current paid-until, capped at the
// maximum stay, and asks for confirmation.
func (s *stepper) quote(f Facts) {
	switch {
	case f.CardBlacklisted != "":
		s.refuse("blacklisted_card")
		return
	case s.st.CardKind == CardDebit:
		s.send("debit", true)
		s.setPhase(PhaseAppLink)
		return
	case !s.canExtend():
		s.send("max_stay_reached", false)
		s.changed = true
		return
	}
	from := s.st.PaidUntil
	until := from.Add(s.set.ExtensionStep)
	capped := false
	if max := s.maxUntil(); until.After(max) {
		until, capped = max, true
	}
	tariff := s.set.TariffFor(s.st.Zone)
	s.st.Attempts++
	s.st.Quote = &Quote{
		Amount: tariff.Price(from.Sub(s.st.StayStart), until.Sub(s.st.StayStart)), Currency: s.set.Currency,
		From: from, Until: until, Capped: capped, QuotedAt: s.now,
		ChargeKey: s.st.ID + ":charge:" + itoa(s.st.Attempts),
	}
	s.setPhase(PhaseQuoted)
	s.send(s.quoteTemplate(), true)
}

func (s *stepper) quoteTemplate() string {
	if s.st.Quote != nil && s.st.Quote.Capped {
		return "quote_capped"
	}
	return "quote"
}

// scheduleAlert arms option 2's alert before the grace period ends.
func (s *stepper) scheduleAlert() {
	at := s.st.GraceEnd(s.set).Add(-s.set.GraceAlertBefore)
	s.arm(TimerGraceAlert, at)
	s.send("alert_scheduled", false)
	s.setPhase(PhaseAlertSet)
}

// confirm starts the charge for the open quote.
func (s *stepper) confirm(f Facts) {
	if f.CardBlacklisted != "" {
		s.refuse("blacklisted_card")
		return
	}
	q := s.st.Quote
	s.emit(Effect{ID: q.ChargeKey, Kind: EffectCharge, Charge: &ChargeEffect{
		Key: q.ChargeKey, CardToken: s.st.CardToken, Amount: q.Amount, Currency: q.Currency,
	}})
	s.setPhase(PhaseCharging)
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%10]}, b...)
		n /= 10
	}
	return string(b)
}
