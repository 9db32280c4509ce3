package meter

import (
	"slices"
	"testing"
)

func TestParseBays(t *testing.T) {
	for spec, want := range map[string][]string{"1-3": {"1", "2", "3"}, "1,2,7": {"1", "2", "7"}, "1-2, 9": {"1", "2", "9"}, "A": {"A"}} {
		got, err := ParseBays(spec)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseBays(%q) = %v, %v; want %v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"9-1", "1-x", "", " , ", "1-1001"} {
		if got, err := ParseBays(spec); err == nil {
			t.Errorf("ParseBays(%q) = %v, want an error", spec, got)
		}
	}
}
