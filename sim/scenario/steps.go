package scenario

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"ppprenew/sim"
	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// Default waits of the expectations without `within`.
const (
	defaultSMSWithin    = 30 * time.Second
	defaultCallWithin   = 60 * time.Second
	defaultPushWithin   = 30 * time.Second
	defaultExpectWithin = 15 * time.Second
)

// describe is a step's short description, in the scenario's own names.
func describe(s *Step) string {
	switch {
	case s.Tap != nil:
		who := "card " + s.Tap.Card
		if s.Tap.Phone != "" {
			who = "card of " + mask(s.Tap.Phone)
		}
		d := fmt.Sprintf("%dm", s.Tap.Minutes)
		if s.Tap.Seconds > 0 {
			d = fmt.Sprintf("%ds", s.Tap.Seconds)
		}
		return fmt.Sprintf("%s bay %s, %s for %s", s.Tap.Meter, s.Tap.Bay, who, d)
	case s.SMS != nil:
		twice := ""
		if s.SMS.Twice {
			twice = " (webhook twice)"
		}
		return fmt.Sprintf("%s sends %q%s", mask(s.SMS.From), s.SMS.Body, twice)
	case s.ExpectSMS != nil:
		return fmt.Sprintf("%s gets a text matching /%s/", mask(s.ExpectSMS.To), s.ExpectSMS.Match)
	case s.NoSMS != nil:
		return fmt.Sprintf("%s gets no text for %s", mask(s.NoSMS.To), time.Duration(s.NoSMS.For))
	case s.Voice != nil:
		return fmt.Sprintf("%s answers %s, presses %s", mask(s.Voice.Phone), cmpOr(s.Voice.Answer, "human"), strings.Join(s.Voice.Press, ","))
	case s.ExpectCall != nil:
		return fmt.Sprintf("%s gets a call saying /%s/", mask(s.ExpectCall.To), s.ExpectCall.Say)
	case s.Call != nil:
		return fmt.Sprintf("%s calls in, presses %s", mask(s.Call.From), strings.Join(s.Call.Press, ","))
	case s.App != nil:
		if s.App.Press != "" {
			return fmt.Sprintf("app of %s presses %s on the next push", mask(s.App.Phone), s.App.Press)
		}
		return fmt.Sprintf("app of %s registered", mask(s.App.Phone))
	case s.ExpectPush != nil:
		return fmt.Sprintf("app of %s gets a push matching /%s/", mask(s.ExpectPush.To), s.ExpectPush.Match)
	case s.Fault != nil:
		f := s.Fault
		switch {
		case f.Carrier != "":
			return fmt.Sprintf("carrier fault %s x%d", f.Carrier, max(f.Count, 1))
		case f.Push != "":
			return fmt.Sprintf("push fault %s %d x%d", f.Push, f.Status, max(f.Count, 1))
		}
		return "card fault on " + showCardOf(f.CardOf)
	case s.ClearFault != nil:
		return "faults cleared"
	case s.MeterFault != nil:
		return "meter fault on " + s.MeterFault.Meter
	case s.Expect != nil:
		return describeExpect(s.Expect)
	case s.Wait != nil:
		return time.Duration(s.Wait.For).String()
	}
	return s.Kind
}

func showCardOf(s string) string {
	if validPhone(s) {
		return mask(Phone(s))
	}
	return s
}

func describeExpect(e *ExpectStep) string {
	var parts []string
	if e.Charges != nil {
		parts = append(parts, fmt.Sprintf("charges %d", *e.Charges))
	}
	if e.Meter != nil {
		p := fmt.Sprintf("meter %s bay %s", e.Meter.ID, e.Meter.Bay)
		if e.Meter.Renewed != nil {
			p += fmt.Sprintf(" renewed %t", *e.Meter.Renewed)
		}
		if e.Meter.ExtendedBy > 0 {
			p += " extended by " + time.Duration(e.Meter.ExtendedBy).String()
		}
		parts = append(parts, p)
	}
	if e.Phase != "" {
		parts = append(parts, "phase "+e.Phase)
	}
	if e.Renewals != nil {
		parts = append(parts, fmt.Sprintf("renewals %d", *e.Renewals))
	}
	if len(e.Alerts) > 0 {
		parts = append(parts, "alerts "+strings.Join(e.Alerts, ","))
	}
	return strings.Join(parts, ", ")
}

// step runs one step. A failure returns the error and a detail of what
// arrived instead.
func (r *run) step(ctx context.Context, s *Step) (string, error) {
	switch {
	case s.Tap != nil:
		return "", r.tap(ctx, s.Tap)
	case s.SMS != nil:
		var res sim.InboundResult
		err := r.c.world(ctx, "POST", "/phones/"+url.PathEscape(r.names.phone(s.SMS.From))+"/sms", map[string]any{"body": s.SMS.Body, "duplicate": s.SMS.Twice}, &res)
		if err == nil && res.WebhookStatus >= 300 {
			err = fmt.Errorf("the server answered the text's webhook with %d: %s", res.WebhookStatus, res.WebhookError)
		}
		return "", err
	case s.ExpectSMS != nil:
		return r.expectSMS(ctx, s.ExpectSMS)
	case s.NoSMS != nil:
		return r.noSMS(ctx, s.NoSMS)
	case s.Voice != nil:
		v := s.Voice
		body := map[string]any{"answer": cmpOr(v.Answer, "human"), "rings": max(v.Rings, 1), "steps": voiceSteps(v.Press)}
		return "", r.c.world(ctx, "POST", "/phones/"+url.PathEscape(r.names.phone(v.Phone))+"/voice", body, nil)
	case s.ExpectCall != nil:
		return r.expectCall(ctx, s.ExpectCall)
	case s.Call != nil:
		return r.call(ctx, s.Call)
	case s.App != nil:
		return "", r.appStep(ctx, s.App)
	case s.ExpectPush != nil:
		return r.expectPush(ctx, s.ExpectPush)
	case s.Fault != nil:
		return "", r.fault(ctx, s.Fault)
	case s.ClearFault != nil:
		both := !s.ClearFault.Carrier && !s.ClearFault.Push
		if both || s.ClearFault.Carrier {
			if err := r.c.world(ctx, "DELETE", "/faults", nil, nil); err != nil {
				return "", err
			}
		}
		if both || s.ClearFault.Push {
			return "", r.c.world(ctx, "DELETE", "/push/faults", nil, nil)
		}
		return "", nil
	case s.MeterFault != nil:
		return "", r.meterFault(ctx, s.MeterFault)
	case s.Expect != nil:
		return r.expect(ctx, s.Expect)
	case s.Wait != nil:
		t := time.NewTimer(time.Duration(s.Wait.For))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
			return "", nil
		}
	}
	return "", fmt.Errorf("step kind %q cannot run", s.Kind)
}

func (r *run) tap(ctx context.Context, t *TapStep) error {
	token := r.names.cards[t.Card]
	if t.Phone != "" {
		token = r.names.cards[string(t.Phone)]
	}
	amt := int64(1000)
	if t.Amount.Set {
		amt = t.Amount.Minor
	}
	body := map[string]any{"card_token": token, "minutes": t.Minutes, "amount_minor": amt}
	if t.Seconds > 0 {
		body["seconds"] = t.Seconds
	}
	var res struct {
		Record struct {
			PaidUntil time.Time `json:"paid_until"`
		} `json:"record"`
	}
	id := r.names.meters[t.Meter]
	if err := r.c.world(ctx, "POST", "/meters/"+url.PathEscape(id)+"/bays/"+url.PathEscape(t.Bay)+"/tap", body, &res); err != nil {
		return err
	}
	r.taps[id+"/"+t.Bay] = res.Record.PaidUntil
	return nil
}

// voiceSteps turns presses into the handset's script steps: "hangup"
// hangs up, "-" stays silent, "1x2" presses 1 with the webhook delivered
// twice.
func voiceSteps(press []string) []map[string]any {
	out := []map[string]any{}
	for _, p := range press {
		switch {
		case p == "hangup":
			out = append(out, map[string]any{"hangup": true})
		case p == "-" || p == "":
			out = append(out, map[string]any{})
		case strings.HasSuffix(p, "x2"):
			out = append(out, map[string]any{"digits": strings.TrimSuffix(p, "x2"), "duplicate": true})
		default:
			out = append(out, map[string]any{"digits": p})
		}
	}
	return out
}

func (r *run) expectSMS(ctx context.Context, e *ExpectSMSStep) (string, error) {
	phone := r.names.phone(e.To)
	from := r.from(r.prevTexts(), r.seen, phone)
	var msgs []sim.PhoneMessage
	ok, err := poll(ctx, within(e.Within, defaultSMSWithin), func() (bool, error) {
		all, err := r.inbox(ctx, phone)
		if err != nil {
			return false, err
		}
		msgs = all[min(from, len(all)):]
		for i, m := range msgs {
			if e.Match.MatchString(r.names.show(m.Body)) {
				r.seen[phone] = from + i + 1
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil || ok {
		return "", err
	}
	return fmt.Sprintf("  expected: a text to %s matching /%s/ within %s\n  got instead (%d text(s) since the previous step):\n%s",
			mask(e.To), e.Match, within(e.Within, defaultSMSWithin), len(msgs), listTexts(msgs)),
		fmt.Errorf("no text to %s matched /%s/ within %s", mask(e.To), e.Match, within(e.Within, defaultSMSWithin))
}

func (r *run) prevTexts() map[string]int {
	if r.prev == nil {
		return nil
	}
	return r.prev.texts
}

func (r *run) noSMS(ctx context.Context, e *NoSMSStep) (string, error) {
	phone := r.names.phone(e.To)
	from := r.from(r.prevTexts(), r.seen, phone)
	var bad []sim.PhoneMessage
	_, err := poll(ctx, time.Duration(e.For), func() (bool, error) {
		all, err := r.inbox(ctx, phone)
		if err != nil {
			return false, err
		}
		for _, m := range all[min(from, len(all)):] {
			if e.Match == nil || e.Match.MatchString(r.names.show(m.Body)) {
				bad = append(bad, m)
			}
		}
		return len(bad) > 0, nil
	})
	if err != nil {
		return "", err
	}
	if len(bad) > 0 {
		what := "no text"
		if e.Match != nil {
			what = fmt.Sprintf("no text matching /%s/", e.Match)
		}
		return fmt.Sprintf("  expected: %s to %s for %s\n  got instead:\n%s", what, mask(e.To), time.Duration(e.For), listTexts(bad)),
			fmt.Errorf("%s received a text it should not have", mask(e.To))
	}
	return "", nil
}

// said is what the platform said in a call.
func said(c sim.Call) string {
	var parts []string
	for _, e := range c.Transcript {
		if e.Kind == "say" {
			parts = append(parts, e.Text)
		}
	}
	return strings.Join(parts, " | ")
}

func (r *run) expectCall(ctx context.Context, e *ExpectCallStep) (string, error) {
	phone := r.names.phone(e.To)
	var prev map[string]int
	if r.prev != nil {
		prev = r.prev.calls
	}
	from := r.from(prev, r.calls, phone)
	var calls []sim.Call
	w := within(e.Within, defaultCallWithin)
	ok, err := poll(ctx, w, func() (bool, error) {
		all, err := r.phoneCalls(ctx, phone)
		if err != nil {
			return false, err
		}
		calls = all[min(from, len(all)):]
		for i, c := range calls {
			if c.Ended && e.Say.MatchString(r.names.show(said(c))) && (e.Status == "" || c.Status == e.Status) {
				r.calls[phone] = from + i + 1
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil || ok {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  expected: an ended call to %s saying /%s/", mask(e.To), e.Say)
	if e.Status != "" {
		fmt.Fprintf(&b, " with status %s", e.Status)
	}
	fmt.Fprintf(&b, " within %s\n  got instead (%d call(s) since the previous step):\n", w, len(calls))
	for _, c := range calls {
		fmt.Fprintf(&b, "    [%s ended=%t] %s\n", c.Status, c.Ended, quoteBody(r.names.show(said(c))))
	}
	if len(calls) == 0 {
		b.WriteString("    (none)\n")
	}
	return b.String(), fmt.Errorf("no call to %s said /%s/ within %s", mask(e.To), e.Say, w)
}

func (r *run) call(ctx context.Context, s *CallStep) (string, error) {
	phone := r.names.phone(s.From)
	var c sim.Call
	body := map[string]any{"steps": voiceSteps(s.Press), "from_withheld": s.Withheld}
	if err := r.c.world(ctx, "POST", "/phones/"+url.PathEscape(phone)+"/call?wait=60s", body, &c); err != nil {
		return "", err
	}
	if !c.Ended {
		if err := r.c.world(ctx, "GET", "/calls/"+url.PathEscape(c.Sid)+"?wait=60s", nil, &c); err != nil {
			return "", err
		}
	}
	if all, err := r.phoneCalls(ctx, phone); err == nil {
		r.calls[phone] = len(all)
	}
	heard := r.names.show(said(c))
	if s.Say != nil && !s.Say.MatchString(heard) {
		return fmt.Sprintf("  expected: the platform to say /%s/\n  got instead [%s]: %s\n", s.Say, c.Status, quoteBody(heard)),
			fmt.Errorf("the call from %s did not say /%s/", mask(s.From), s.Say)
	}
	return "", nil
}

func (r *run) appStep(ctx context.Context, a *AppStep) error {
	id, ok := r.apps[a.Phone]
	if !ok {
		phone := r.names.phone(a.Phone)
		var u struct {
			ID string `json:"id"`
		}
		if err := r.c.admin(ctx, "GET", "/users?phone="+url.QueryEscape(phone), nil, &u); err != nil {
			return err
		}
		var tok struct {
			Token string `json:"token"`
		}
		if err := r.c.admin(ctx, "POST", "/users/"+url.PathEscape(u.ID)+"/app-token", nil, &tok); err != nil {
			return err
		}
		var app sim.App
		if err := r.c.world(ctx, "POST", "/apps", map[string]any{"phone": phone, "platform": cmpOr(a.Platform, "fcm"), "app_token": tok.Token, "server_url": r.c.Server}, &app); err != nil {
			return err
		}
		id = app.ID
		r.apps[a.Phone] = id
	}
	if a.Press == "" {
		return nil
	}
	return r.c.world(ctx, "POST", "/apps/"+url.PathEscape(id)+"/script", map[string]any{"press": a.Press, "after_ms": a.AfterMS}, nil)
}

func (r *run) expectPush(ctx context.Context, e *ExpectPushStep) (string, error) {
	id, ok := r.apps[e.To]
	if !ok {
		return "", fmt.Errorf("%s has no app: add an `app` step first", mask(e.To))
	}
	var prev map[string]int
	if r.prev != nil {
		prev = r.prev.pushes
	}
	from := r.from(prev, r.pushes, id)
	var got []sim.Push
	w := within(e.Within, defaultPushWithin)
	ok, err := poll(ctx, w, func() (bool, error) {
		a, err := r.app(ctx, id)
		if err != nil {
			return false, err
		}
		got = a.Pushes[min(from, len(a.Pushes)):]
		for i, p := range got {
			if e.Match.MatchString(r.names.show(p.Title + " " + p.Body)) {
				r.pushes[id] = from + i + 1
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil || ok {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  expected: a push to the app of %s matching /%s/ within %s\n  got instead (%d push(es) since the previous step):\n", mask(e.To), e.Match, w, len(got))
	for _, p := range got {
		fmt.Fprintf(&b, "    %s\n", quoteBody(r.names.show(p.Title+" "+p.Body)))
	}
	if len(got) == 0 {
		b.WriteString("    (none)\n")
	}
	return b.String(), fmt.Errorf("no push to %s matched /%s/ within %s", mask(e.To), e.Match, w)
}

func (r *run) fault(ctx context.Context, f *FaultStep) error {
	switch {
	case f.Carrier != "":
		body := map[string]any{"kind": f.Carrier, "count": max(f.Count, 1)}
		if f.DelayMS > 0 {
			body["delay_ms"] = f.DelayMS
		}
		return r.c.world(ctx, "POST", "/faults", body, nil)
	case f.Push != "":
		return r.c.world(ctx, "POST", "/push/faults", map[string]any{"provider": f.Push, "status": f.Status, "count": max(f.Count, 1)}, nil)
	}
	patch := map[string]any{"expired": f.Expired, "blacklisted": f.Blacklisted}
	if f.DeclineNext > 0 {
		patch["decline_next"] = f.DeclineNext
	}
	if f.UnavailableNext > 0 {
		patch["unavailable_next"] = f.UnavailableNext
	}
	if f.RecordsUnavailableNext > 0 {
		patch["records_unavailable_next"] = f.RecordsUnavailableNext
	}
	if f.SlowMS > 0 {
		patch["slow_next"] = map[string]int{"count": max(f.Count, 1), "delay_ms": f.SlowMS}
	}
	if f.Balance.Set {
		patch["balance_minor"] = f.Balance.Minor
	}
	return r.c.world(ctx, "PATCH", "/cards/"+url.PathEscape(r.names.cards[f.CardOf]), patch, nil)
}

func (r *run) meterFault(ctx context.Context, m *MeterFaultStep) error {
	body := map[string]any{}
	if !m.Clear {
		for k, v := range map[string]any{"radio_unreachable": m.RadioUnreachable, "lose_acks": m.LoseAcks} {
			if v.(bool) {
				body[k] = true
			}
		}
		for k, v := range map[string]int{"drop_replies": m.DropReplies, "drop_sends": m.DropSends, "duplicate_sends": m.DuplicateSends,
			"corrupt_replies": m.CorruptReplies, "connect_back_fails": m.ConnectBackFails} {
			if v > 0 {
				body[k] = v
			}
		}
		if m.PowerLoss != "" {
			body["power_loss"] = m.PowerLoss
		}
	}
	return r.c.world(ctx, "POST", "/meters/"+url.PathEscape(r.names.meters[m.Meter])+"/faults", body, nil)
}

// expect polls every part of an expectation until all hold.
func (r *run) expect(ctx context.Context, e *ExpectStep) (string, error) {
	w := within(e.Within, defaultExpectWithin)
	var report []string
	ok, err := poll(ctx, w, func() (bool, error) {
		var err error
		report, err = r.checkExpect(ctx, e)
		return len(report) == 0, err
	})
	if err != nil || ok {
		return "", err
	}
	return "  " + strings.Join(report, "\n  ") + "\n", fmt.Errorf("not so after %s", w)
}

// checkExpect returns one line per part that does not hold:
// "expected X, got Y".
func (r *run) checkExpect(ctx context.Context, e *ExpectStep) ([]string, error) {
	var bad []string
	if e.Charges != nil {
		var chs []sim.ChargeRecord
		if err := r.c.world(ctx, "GET", "/charges", nil, &chs); err != nil {
			return nil, err
		}
		mine := map[string]bool{}
		for _, t := range r.names.cards {
			mine[t] = true
		}
		n := 0
		var other []string
		for _, c := range chs {
			if !mine[c.CardToken] {
				continue
			}
			if c.Status == "succeeded" {
				n++
			} else {
				other = append(other, c.Status+" "+c.Code)
			}
		}
		if n != *e.Charges {
			line := fmt.Sprintf("charges: expected %d succeeded, got %d", *e.Charges, n)
			if len(other) > 0 {
				line += " (and not succeeded: " + strings.Join(other, ", ") + ")"
			}
			bad = append(bad, line)
		}
	}
	if m := e.Meter; m != nil {
		id := r.names.meters[m.ID]
		var snap struct {
			Bays []struct {
				Bay       string    `json:"bay"`
				PaidUntil time.Time `json:"paid_until"`
			} `json:"bays"`
		}
		if err := r.c.world(ctx, "GET", "/meters/"+url.PathEscape(id), nil, &snap); err != nil {
			return nil, err
		}
		var paid time.Time
		for _, b := range snap.Bays {
			if b.Bay == m.Bay {
				paid = b.PaidUntil
			}
		}
		tapped := r.taps[id+"/"+m.Bay]
		if m.Renewed != nil && paid.After(tapped) != *m.Renewed {
			bad = append(bad, fmt.Sprintf("meter %s bay %s: expected renewed %t, got paid until %s (the last tap paid until %s)",
				m.ID, m.Bay, *m.Renewed, clock(paid), clock(tapped)))
		}
		if m.ExtendedBy > 0 && !paid.Equal(tapped.Add(time.Duration(m.ExtendedBy))) {
			bad = append(bad, fmt.Sprintf("meter %s bay %s: expected paid until %s (the last tap + %s), got %s",
				m.ID, m.Bay, clock(tapped.Add(time.Duration(m.ExtendedBy))), time.Duration(m.ExtendedBy), clock(paid)))
		}
	}
	if e.Phase != "" || e.Renewals != nil {
		who := e.Phone
		if who == "" {
			who = r.sc.World.Drivers[0].Phone
		}
		st, err := r.conversation(ctx, r.names.phone(who))
		if err != nil {
			return nil, err
		}
		if st == nil {
			bad = append(bad, fmt.Sprintf("conversation of %s: expected one, got none", mask(who)))
		} else {
			if e.Phase != "" && !phaseIs(st, e.Phase) {
				bad = append(bad, fmt.Sprintf("phase of %s: expected %s, got %s", mask(who), e.Phase, describePhase(st)))
			}
			if e.Renewals != nil && len(st.Renewals) != *e.Renewals {
				bad = append(bad, fmt.Sprintf("renewals of %s: expected %d, got %d", mask(who), *e.Renewals, len(st.Renewals)))
			}
		}
	}
	if len(e.Alerts) > 0 {
		got, err := r.alerts(ctx)
		if err != nil {
			return nil, err
		}
		for _, want := range e.Alerts {
			if !slices.Contains(got, want) {
				bad = append(bad, fmt.Sprintf("alerts: expected %s, got [%s]", want, strings.Join(got, ", ")))
			}
		}
	}
	return bad, nil
}

// phaseIs compares a phase; "renewed" is back to parked with the newest
// renewal acked by the meter.
func phaseIs(st *engine.State, want string) bool {
	if want == "renewed" {
		n := len(st.Renewals)
		return st.Phase == engine.PhaseParked && n > 0 && st.Renewals[n-1].MeterAck == "acked"
	}
	return string(st.Phase) == want
}

func describePhase(st *engine.State) string {
	s := string(st.Phase)
	if n := len(st.Renewals); n > 0 {
		s += fmt.Sprintf(" (%d renewal(s), the newest meter ack %q)", n, st.Renewals[n-1].MeterAck)
	}
	return s
}

// alerts are the codes of operator alerts about the scenario's
// conversations or meters.
func (r *run) alerts(ctx context.Context) ([]string, error) {
	convs := map[string]bool{}
	for _, p := range r.names.phones {
		var list struct {
			Conversations []engine.State `json:"conversations"`
		}
		if err := r.c.admin(ctx, "GET", "/conversations?phone="+url.QueryEscape(p), nil, &list); err != nil {
			return nil, err
		}
		for _, c := range list.Conversations {
			convs[c.ID] = true
		}
	}
	meters := map[string]bool{}
	for _, m := range r.names.meters {
		meters[m] = true
	}
	var list struct {
		Alerts []workflows.Alert `json:"alerts"`
	}
	if err := r.c.admin(ctx, "GET", "/alerts", nil, &list); err != nil {
		return nil, err
	}
	var out []string
	for _, a := range list.Alerts {
		if (convs[a.Conv] || meters[a.Meter]) && !slices.Contains(out, a.Code) {
			out = append(out, a.Code)
		}
	}
	return out, nil
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("15:04:05")
}
