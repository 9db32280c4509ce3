package engine

import "fmt"

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
	s.changed = true
	if c.Outcome == ChargeUnknown {
		s.chargeUnknown(q)
		return
	}
	if s.st.ChargeCheck != nil {
		s.alert("charge_resolved", fmt.Sprintf("charge %s settled by lookup after %s: %s", q.ChargeKey, s.now.Sub(s.st.ChargeCheck.Since).Round(1e9), c.Outcome))
		s.st.ChargeCheck = nil
		s.disarm(TimerChargeCheck)
	}
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
		if !s.now.Before(s.st.GraceEnd(s.set)) {
			// Settled after the stay was over: nothing is left to renew.
			s.send("ended", false)
			s.setPhase(PhaseEnded)
			return
		}
		s.setPhase(PhaseOffered)
	}
}

// chargeUnknown keeps a charge whose outcome the gateway could not tell
// unresolved: the driver hears that the payment is being checked (not that
// nothing was charged), the operator is alerted, and the key is looked up
// again later. The conversation stays charging, so no second charge can be
// made for it until the gateway answers.
func (s *stepper) chargeUnknown(q Quote) {
	cc := s.st.ChargeCheck
	if cc == nil {
		cc = &ChargeCheck{Key: q.ChargeKey, Since: s.now}
		s.st.ChargeCheck = cc
		s.send("payment_checking", false)
		s.alert("charge_unresolved", fmt.Sprintf("the gateway could not tell whether charge %s (%s, card %s) was taken; looking it up until it does",
			q.ChargeKey, q.Amount.Format(q.Currency), s.st.CardLast4))
	} else {
		cc.Lookups++
	}
	if !cc.GaveUp && s.now.Sub(cc.Since) >= s.set.ChargeCheck.GiveUpAfter {
		cc.GaveUp = true
		s.alert("charge_unresolved_stuck", fmt.Sprintf("charge %s is still unresolved after %s; settle it with the payment service", q.ChargeKey, s.now.Sub(cc.Since).Round(1e9)))
	}
	s.arm(TimerChargeCheck, s.now.Add(s.set.ChargeCheck.pause(cc.Lookups)))
}

// chargeCheck looks the unresolved charge up; the answer comes back as a
// charge result.
func (s *stepper) chargeCheck() {
	cc, q := s.st.ChargeCheck, s.st.Quote
	if s.st.Phase != PhaseCharging || cc == nil || q == nil || q.ChargeKey != cc.Key {
		return
	}
	s.emit(Effect{ID: s.nextID("lookup"), Kind: EffectCharge, Charge: &ChargeEffect{
		Key: q.ChargeKey, CardToken: s.st.CardToken, Amount: q.Amount, Currency: q.Currency, Lookup: true,
	}})
}
