package load

import (
	"fmt"
	"strconv"
	"strings"
)

// Channels a journey answers on.
const (
	SMS   = "sms"
	Voice = "voice"
	App   = "app"
)

// channels in the order a mix is written.
var channels = []string{SMS, Voice, App}

// Mix is the share of journeys on each channel, in percent; the shares sum
// to 100.
type Mix struct {
	SMS   int `json:"sms"`
	Voice int `json:"voice"`
	App   int `json:"app"`
}

// DefaultMix is sms=70,voice=20,app=10.
var DefaultMix = Mix{SMS: 70, Voice: 20, App: 10}

// String writes the mix as ParseMix reads it.
func (m Mix) String() string {
	return fmt.Sprintf("sms=%d,voice=%d,app=%d", m.SMS, m.Voice, m.App)
}

func (m Mix) share(ch string) int {
	switch ch {
	case SMS:
		return m.SMS
	case Voice:
		return m.Voice
	}
	return m.App
}

// ParseMix reads a mix like "sms=70,voice=20,app=10": comma-separated
// channel=percent pairs, each channel (sms, voice, app) at most once, each
// percent a whole number from 0 to 100, summing to 100. A channel left out
// has no share.
func ParseMix(s string) (Mix, error) {
	var m Mix
	if s == "" {
		return m, fmt.Errorf("mix is empty: write it like %s", DefaultMix)
	}
	seen := map[string]bool{}
	sum := 0
	for i, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return m, fmt.Errorf("mix %q: part %d %q is not channel=percent (like sms=70)", s, i+1, part)
		}
		var p *int
		switch name {
		case SMS:
			p = &m.SMS
		case Voice:
			p = &m.Voice
		case App:
			p = &m.App
		default:
			return m, fmt.Errorf("mix %q: unknown channel %q (the channels are sms, voice and app)", s, name)
		}
		if seen[name] {
			return m, fmt.Errorf("mix %q: %s is given twice", s, name)
		}
		seen[name] = true
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > 100 || strings.TrimLeft(value, "0123456789") != "" {
			return m, fmt.Errorf("mix %q: %s=%q is not a whole percent from 0 to 100", s, name, value)
		}
		*p = n
		sum += n
	}
	if sum != 100 {
		return m, fmt.Errorf("mix %q sums to %d, not 100", s, sum)
	}
	return m, nil
}

// validate checks a mix built in code.
func (m Mix) validate() error {
	for _, ch := range channels {
		if v := m.share(ch); v < 0 || v > 100 {
			return fmt.Errorf("mix %s: %s=%d is not a percent from 0 to 100", m, ch, v)
		}
	}
	if sum := m.SMS + m.Voice + m.App; sum != 100 {
		return fmt.Errorf("mix %s sums to %d, not 100", m, sum)
	}
	return nil
}

// assign gives n drivers their channels: as close to the mix as whole
// drivers allow at every prefix of the run (smooth weighted round robin),
// so a run cut short by its duration still has the mix.
func (m Mix) assign(n int) []string {
	out := make([]string, n)
	current := map[string]int{}
	for i := range n {
		best := ""
		for _, ch := range channels {
			current[ch] += m.share(ch)
			if best == "" || current[ch] > current[best] {
				best = ch
			}
		}
		current[best] -= 100
		out[i] = best
	}
	return out
}
