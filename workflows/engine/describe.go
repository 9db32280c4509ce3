package engine

import (
	"fmt"
	"strings"
	"time"
)

// DescribeInput is a one-line, human-readable account of an input for
// histories, logs and transcripts.
func DescribeInput(in Input, loc *time.Location) string {
	switch in.Kind {
	case InputPayment:
		if p := in.Payment; p != nil {
			return fmt.Sprintf("payment %s at meter %s bay %s, paid until %s", p.TxnID, p.MeterID, p.Bay, p.PaidUntil.In(loc).Format("15:04:05"))
		}
	case InputTimer:
		if t := in.Timer; t != nil {
			return "timer " + string(t.Kind)
		}
	case InputReply:
		if r := in.Reply; r != nil {
			return fmt.Sprintf("reply %q by %s", string(r.Answer), r.Channel)
		}
	case InputCharge:
		if c := in.Charge; c != nil {
			return strings.TrimSpace(fmt.Sprintf("charge %s %s", c.Outcome, c.ChargeID))
		}
	case InputMeterAck:
		if a := in.Ack; a != nil {
			return fmt.Sprintf("meter ack %s applied=%t paid until %s", a.CommandID, a.Applied, a.PaidUntil.In(loc).Format("15:04:05"))
		}
	case InputSendFailed:
		if s := in.Send; s != nil {
			return strings.TrimSpace(fmt.Sprintf("send failed %s %s code %d %s", s.Channel, s.EffectID, s.Code, s.Reason))
		}
	}
	return string(in.Kind)
}

// DescribeEffect is a one-line, human-readable account of an effect for
// histories and transcripts.
func DescribeEffect(e Effect, loc *time.Location) string {
	switch {
	case e.Send != nil:
		ch := e.Send.Channel
		if e.Send.Inline {
			ch += " (inline)"
		}
		return fmt.Sprintf("send %s %s: %s", ch, e.Send.Template, e.Send.Body)
	case e.Timer != nil:
		return fmt.Sprintf("timer %s at %s", e.Timer.Kind, e.Timer.At.In(loc).Format("15:04:05"))
	case e.Charge != nil:
		if e.Charge.Lookup {
			return fmt.Sprintf("look up charge key %s", e.Charge.Key)
		}
		return fmt.Sprintf("charge %s card %s key %s", e.Charge.Amount.Format(e.Charge.Currency), MaskToken(e.Charge.CardToken), e.Charge.Key)
	case e.Meter != nil:
		return fmt.Sprintf("meter %s renew bay %s until %s (command %s)", e.Meter.MeterID, e.Meter.Bay, e.Meter.PaidUntil.In(loc).Format("15:04:05"), e.Meter.CommandID)
	case e.Alert != nil:
		return fmt.Sprintf("operator alert %s: %s", e.Alert.Code, e.Alert.Message)
	case e.Note != nil:
		return fmt.Sprintf("skipped %s: %s", e.Note.Skipped, e.Note.Reason)
	}
	return string(e.Kind)
}

// MaskToken shows only the last four characters of a card token.
func MaskToken(t string) string {
	if len(t) <= 4 {
		return "****"
	}
	return "****" + t[len(t)-4:]
}

// MaskPhone keeps the country code and the last two digits of a phone
// number, for logs.
func MaskPhone(p string) string {
	if len(p) <= 6 {
		return "***"
	}
	n := 3
	if strings.HasPrefix(p, "+1") || strings.HasPrefix(p, "+7") {
		n = 2
	}
	return p[:n] + strings.Repeat("*", len(p)-n-2) + p[len(p)-2:]
}
