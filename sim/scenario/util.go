package scenario

import (
	"fmt"
	"strconv"
	"strings"
)

// expandBays turns "1-20" or "1,2,7" into bay names.
func expandBays(spec string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if a, b, ok := strings.Cut(part, "-"); ok {
			lo, err1 := strconv.Atoi(a)
			hi, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil || hi < lo || hi-lo > 999 {
				return nil, fmt.Errorf("%q: use a list like 1-20 or 1,2,7", spec)
			}
			for i := lo; i <= hi; i++ {
				out = append(out, strconv.Itoa(i))
			}
		} else if part != "" {
			out = append(out, part)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q names no bay", spec)
	}
	return out, nil
}

func money(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }
