package scenario

import (
	"fmt"
	"ppprenew/sim/meter"
	"regexp"

	"go.yaml.in/yaml/v3"
)

var (
	meterIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)
	pressPattern   = regexp.MustCompile(`^([0-9*#]+(x2)?|-|hangup)$`)
)

// check verifies what the decoder cannot: references between the world and
// the steps, and fields that go together.
func check(d *decoder, sc *Scenario, root *yaml.Node) {
	meters := map[string]bool{}
	for i, m := range sc.World.Meters {
		p := fmt.Sprintf("world.meters[%d]", i)
		if !meterIDPattern.MatchString(m.ID) {
			d.failAt(p+".id", root, "%s.id: %q: use 1-40 of A-Z a-z 0-9 . _ -", p, m.ID)
		}
		if meters[m.ID] {
			d.failAt(p+".id", root, "%s.id: meter %q declared twice", p, m.ID)
		}
		meters[m.ID] = true
		if m.Bays != "" {
			if _, err := meter.ParseBays(m.Bays); err != nil {
				d.failAt(p+".bays", root, "%s.bays: %v", p, err)
			}
		}
	}
	drivers := map[Phone]bool{}
	for i, dr := range sc.World.Drivers {
		p := fmt.Sprintf("world.drivers[%d]", i)
		if drivers[dr.Phone] {
			d.failAt(p+".phone", root, "%s.phone: driver %s declared twice", p, dr.Phone)
		}
		drivers[dr.Phone] = true
		if dr.Last4 != "" && !regexp.MustCompile(`^[0-9]{4}$`).MatchString(dr.Last4) {
			d.failAt(p+".last4", root, "%s.last4: %q is not four digits", p, dr.Last4)
		}
		if dr.PIN != "" && !regexp.MustCompile(`^[0-9]{4,6}$`).MatchString(dr.PIN) {
			d.failAt(p+".pin", root, "%s.pin: a PIN is 4 to 6 digits", p)
		}
	}
	cards := map[string]bool{}
	for i, c := range sc.World.Cards {
		p := fmt.Sprintf("world.cards[%d]", i)
		if cards[c.ID] {
			d.failAt(p+".id", root, "%s.id: card %q declared twice", p, c.ID)
		}
		cards[c.ID] = true
	}
	for i, b := range sc.World.Blacklist {
		p := fmt.Sprintf("world.blacklist[%d]", i)
		if (b.Phone == "") == (b.CardOf == "") {
			d.failAt(p, root, "%s: give one of phone or card_of", p)
		}
		if b.CardOf != "" && !drivers[b.CardOf] {
			d.failAt(p+".card_of", root, "%s.card_of: %s is not a driver of the world", p, b.CardOf)
		}
	}
	needMeter := func(p, id string, at *yaml.Node) {
		if !meters[id] {
			d.failAt(p, at, "%s: meter %q is not in world.meters", p, id)
		}
	}
	needDriver := func(p string, ph Phone, at *yaml.Node) {
		if !drivers[ph] {
			d.failAt(p, at, "%s: %s is not a driver of the world", p, ph)
		}
	}
	presses := func(p string, list []string, at *yaml.Node) {
		for _, k := range list {
			if !pressPattern.MatchString(k) {
				d.failAt(p, at, "%s: %q is not a press (digits, digits with x2, - for silence, hangup)", p, k)
			}
		}
	}
	for i, s := range sc.Steps {
		at := &yaml.Node{Line: s.Line, Column: s.Column}
		p := fmt.Sprintf("steps[%d].%s", i, s.Kind)
		switch {
		case s.Tap != nil:
			t := s.Tap
			needMeter(p+".meter", t.Meter, at)
			if (t.Phone == "") == (t.Card == "") {
				d.fail(at, "%s: give one of phone (a driver's card) or card (a world card)", p)
			}
			if t.Phone != "" {
				needDriver(p+".phone", t.Phone, at)
			}
			if t.Card != "" && !cards[t.Card] {
				d.failAt(p+".card", at, "%s.card: card %q is not in world.cards", p, t.Card)
			}
			if (t.Minutes == 0) == (t.Seconds == 0) {
				d.fail(at, "%s: give one of minutes or seconds", p)
			}
		case s.Voice != nil:
			presses(p+".press", s.Voice.Press, at)
		case s.Call != nil:
			presses(p+".press", s.Call.Press, at)
		case s.App != nil:
			needDriver(p+".phone", s.App.Phone, at)
		case s.ExpectPush != nil:
			needDriver(p+".to", s.ExpectPush.To, at)
		case s.Fault != nil:
			f := s.Fault
			n := 0
			for _, set := range []bool{f.Carrier != "", f.Push != "", f.CardOf != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				d.fail(at, "%s: give one of carrier, push or card_of", p)
			}
			if f.Push != "" && f.Status == 0 {
				d.fail(at, "%s: a push fault needs the HTTP status the provider answers", p)
			}
			if f.CardOf != "" && !cards[f.CardOf] && !(validPhone(f.CardOf) && drivers[Phone(f.CardOf)]) {
				d.failAt(p+".card_of", at, "%s.card_of: %q is neither a driver nor a world card", p, f.CardOf)
			}
		case s.MeterFault != nil:
			needMeter(p+".meter", s.MeterFault.Meter, at)
		case s.Expect != nil:
			e := s.Expect
			if e.Meter != nil {
				needMeter(p+".meter.id", e.Meter.ID, at)
			}
			if e.Phone != "" {
				needDriver(p+".phone", e.Phone, at)
			}
			if (e.Phase != "" || e.Renewals != nil) && e.Phone == "" && len(sc.World.Drivers) == 0 {
				d.fail(at, "%s: phase and renewals need a driver", p)
			}
			if e.Charges == nil && e.Meter == nil && e.Phase == "" && e.Renewals == nil && len(e.Alerts) == 0 {
				d.fail(at, "%s: expect nothing? give charges, meter, phase, renewals or alerts", p)
			}
		}
	}
	for k, n := range sc.Settings {
		if !regexp.MustCompile(`^[a-z_]+(\.[A-Za-z0-9_-]+)*$`).MatchString(k) {
			d.fail(&yaml.Node{Line: n.Line, Column: n.Col}, "settings: %q is not a setting path like lead_time or voice.pin_required", k)
		}
	}
}
