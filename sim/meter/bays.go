package meter

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseBays turns a bay list as testers write it, "1-20" or "1,2,7" (or
// both: "1-3,7"), into bay names; a range spans at most 1,000 bays.
func ParseBays(spec string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if a, b, ok := strings.Cut(part, "-"); ok {
			lo, err1 := strconv.Atoi(a)
			hi, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil || hi < lo || hi-lo > 999 {
				return nil, fmt.Errorf("bays %q: use a list like 1-20 or 1,2,7", spec)
			}
			for i := lo; i <= hi; i++ {
				out = append(out, strconv.Itoa(i))
			}
		} else if part != "" {
			out = append(out, part)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bays %q names no bay", spec)
	}
	return out, nil
}
