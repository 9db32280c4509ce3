package workflows

// charge handles the payment gateway's final answer for the open quote. A
// success records the renewal in the same step, so there is never a charge
// without a renewal or a renewal without a charge.
func (s *stepper) charge(in Input) {
	c := in.Charge
	if c == nil || s.st.Phase != PhaseCharging || s.st.Quote == nil || s.st.Quote.ChargeKey != c.Key {
		return
	}
	q := *s.st.Quote
	s.st.LastCharge = c.Outcome
	switch c.Outcome {
	case ChargeSucceeded:
		n := len(s.st.Renewals) + 1
		cmd := s.st.ID + ":renew:" + itoa(n)
		s.st.Renewals = append(s.st.Renewals, Renewal{
			N: n, ChargeKey: q.ChargeKey, ChargeID: c.ChargeID, Amount: q.Amount, Currency: q.Currency,
			From: q.From, Until: q.Until, CommandID: cmd, RecordedAt: s.now,
		})
		s.st.PaidUntil = q.Until
		s.st.Quote = nil
		s.disarm(TimerGraceAlert, TimerGraceEnd, TimerNotice)
		s.emit(Effect{ID: cmd, Kind: EffectRenewMeter, Meter: &MeterEffect{
			CommandID: cmd, MeterID: s.st.MeterID, Bay: s.st.Bay, PaidUntil: q.Until, TxnID: c.ChargeID,
		}})
		s.arm(TimerMeterAck, s.now.Add(s.set.MeterAckTimeout))
		s.setPhase(PhaseRenewing)
	case ChargeBlacklisted:
		s.refuse("blacklisted_card")
	default:
		tpl := map[ChargeOutcome]string{
			ChargeDeclined: "declined", ChargeInsufficient: "insufficient_funds", ChargeCardExpired: "card_expired",
			ChargeDebit: "debit", ChargeUnavailable: "payment_unavailable",
		}[c.Outcome]
		if tpl == "" {
			tpl = "declined"
		}
		s.st.Quote = nil
		s.send(tpl, true)
		s.setPhase(PhaseOffered)
	}
}
