package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Money is an amount in minor units (cents). In YAML it is written as a
// decimal string with at most two decimals, for example "12.50".
type Money int64

// ParseMoney reads "12.5", "12.50" or "12" as minor units.
func ParseMoney(s string) (Money, error) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || strings.HasPrefix(whole, "-") {
		return 0, fmt.Errorf("%q is not an amount such as 12.50", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount such as 12.50", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount such as 12.50", s)
	}
	return Money(w*100 + f), nil
}

// UnmarshalYAML accepts a decimal string or number.
func (m *Money) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseMoney(n.Value)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Format renders the amount with its currency and thousands separators, for
// example "HKD 1,234.50".
func (m Money) Format(currency string) string {
	whole := strconv.FormatInt(int64(m)/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s %s.%02d", currency, b.String(), int64(m)%100)
}

// Tariff prices parking time. The standard rate applies from the start of a
// stay; each progressive band replaces it once the stay is older than After.
type Tariff struct {
	// RatePerHour is the standard rate.
	RatePerHour Money `yaml:"rate_per_hour"`
	// Progressive bands raise the rate as the stay grows longer.
	Progressive []Band `yaml:"progressive"`
}

// Band is one step of a progressive tariff.
type Band struct {
	// After is the stay age from which RatePerHour applies.
	After time.Duration `yaml:"after"`
	// RatePerHour is the rate from After on.
	RatePerHour Money `yaml:"rate_per_hour"`
}

func (t Tariff) validate(path string) error {
	if t.RatePerHour <= 0 {
		return fmt.Errorf("%s.rate_per_hour: must be a positive amount", path)
	}
	if !sort.SliceIsSorted(t.Progressive, func(i, j int) bool { return t.Progressive[i].After < t.Progressive[j].After }) {
		return fmt.Errorf("%s.progressive: bands must be in increasing order of after", path)
	}
	for i, b := range t.Progressive {
		if b.After <= 0 || b.RatePerHour <= 0 {
			return fmt.Errorf("%s.progressive[%d]: after and rate_per_hour must be positive", path, i)
		}
		if i > 0 && b.After == t.Progressive[i-1].After {
			return fmt.Errorf("%s.progressive[%d]: two bands start at %s", path, i, b.After)
		}
	}
	return nil
}

// rateAt is the hourly rate for a stay of age d.
func (t Tariff) rateAt(d time.Duration) Money {
	r := t.RatePerHour
	for _, b := range t.Progressive {
		if d >= b.After {
			r = b.RatePerHour
		}
	}
	return r
}

// Price is the cost of parking from stay age from to stay age to, pro rata to
// the second across bands and rounded up to the minor unit.
func (t Tariff) Price(from, to time.Duration) Money {
	if to <= from {
		return 0
	}
	edges := []time.Duration{from}
	for _, b := range t.Progressive {
		if b.After > from && b.After < to {
			edges = append(edges, b.After)
		}
	}
	edges = append(edges, to)
	var total int64 // minor units × seconds
	for i := 0; i+1 < len(edges); i++ {
		secs := int64((edges[i+1] - edges[i]) / time.Second)
		total += int64(t.rateAt(edges[i])) * secs
	}
	return Money((total + 3599) / 3600)
}
