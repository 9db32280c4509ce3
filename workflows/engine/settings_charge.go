package engine

import "time"

// ChargeCheckSettings say how a charge whose outcome the gateway could not
// tell is reconciled: its key is looked up after First, then after pauses
// that double up to Max, until the gateway answers. After GiveUpAfter the
// operator is asked to settle it by hand; lookups go on at Max.
type ChargeCheckSettings struct {
	// First is the pause before the first lookup (default 1m).
	First time.Duration `yaml:"first"`
	// Max is the longest pause between lookups (default 30m).
	Max time.Duration `yaml:"max"`
	// GiveUpAfter is when the operator is alerted that the charge is still
	// unresolved (default 12h).
	GiveUpAfter time.Duration `yaml:"give_up_after"`
}

// DefaultChargeCheck is the reconciliation schedule used for keys left unset.
var DefaultChargeCheck = ChargeCheckSettings{First: time.Minute, Max: 30 * time.Minute, GiveUpAfter: 12 * time.Hour}

func (s *Settings) validateChargeCheck(bad func(string, ...any)) {
	c := &s.ChargeCheck
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"first", &c.First, DefaultChargeCheck.First}, {"max", &c.Max, DefaultChargeCheck.Max}, {"give_up_after", &c.GiveUpAfter, DefaultChargeCheck.GiveUpAfter}} {
		switch {
		case *f.v < 0:
			bad("charge_check.%s: must not be negative", f.name)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	if c.Max < c.First {
		bad("charge_check.max: %s must not be shorter than charge_check.first (%s)", c.Max, c.First)
	}
}

// pause is how long to wait before lookup n+1 (n lookups already failed).
func (c ChargeCheckSettings) pause(n int) time.Duration {
	d := c.First
	for i := 0; i < n && d < c.Max; i++ {
		d *= 2
	}
	return min(d, c.Max)
}
