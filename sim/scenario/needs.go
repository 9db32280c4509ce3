package scenario

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// unmetNeeds compares a scenario's settings needs with the server's
// settings (GET /admin/v1/server) and says, for each need not met, the
// setting, what the scenario needs and what the server has.
func unmetNeeds(sc *Scenario, settings map[string]any) []string {
	keys := make([]string, 0, len(sc.Settings))
	for k := range sc.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		need := sc.Settings[k]
		have, ok := lookup(settings, k)
		if !ok {
			out = append(out, fmt.Sprintf("%s: the scenario needs %s, the server has no such setting", k, need))
			continue
		}
		if !meets(need, have) {
			out = append(out, fmt.Sprintf("%s: the scenario needs %s, the server has %s", k, need, show(have)))
		}
	}
	return out
}

// String is the need as written: "10m" or "<= 20s".
func (n Need) String() string {
	if n.Op == "=" {
		return n.Value
	}
	return n.Op + " " + n.Value
}

// lookup finds a dotted path (escalation.1.after) in decoded JSON.
func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch m := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = m[part]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(m) {
				return nil, false
			}
			v = m[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func show(v any) string {
	if s, ok := v.(string); ok {
		if d, err := time.ParseDuration(s); err == nil {
			return fmtDuration(d)
		}
		return s
	}
	return fmt.Sprint(v)
}

// fmtDuration writes 10m0s as 10m and 1h30m0s as 1h30m.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// meets compares as durations when both are durations, as numbers when
// both are numbers, else as text.
func meets(n Need, have any) bool {
	hs := fmt.Sprint(have)
	var cmp int
	if nd, err := time.ParseDuration(n.Value); err == nil {
		hd, err := time.ParseDuration(hs)
		if err != nil {
			return false
		}
		cmp = compare(float64(hd), float64(nd))
	} else if nf, err := strconv.ParseFloat(n.Value, 64); err == nil {
		hf, err := strconv.ParseFloat(hs, 64)
		if err != nil {
			return false
		}
		cmp = compare(hf, nf)
	} else {
		if n.Op != "=" {
			return false
		}
		return hs == n.Value
	}
	switch n.Op {
	case "<=":
		return cmp <= 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	case ">":
		return cmp > 0
	}
	return cmp == 0
}

func compare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
