package sim

import (
	"strings"
	"testing"
)

func TestSegmentsOf(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		segments int
		encoding string
	}{
		{"empty", "", 1, encodingGSM7},
		{"short", "Reply 1 to extend", 1, encodingGSM7},
		{"160 gsm", strings.Repeat("a", 160), 1, encodingGSM7},
		{"161 gsm", strings.Repeat("a", 161), 2, encodingGSM7},
		{"306 gsm", strings.Repeat("a", 306), 2, encodingGSM7},
		{"307 gsm", strings.Repeat("a", 307), 3, encodingGSM7},
		{"euro counts twice", strings.Repeat("€", 80), 1, encodingGSM7},
		{"euro overflows", strings.Repeat("€", 81), 2, encodingGSM7},
		{"escape pair not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), 2, encodingGSM7},
		{"gsm accents", "Café è à ñ £5", 1, encodingGSM7},
		{"70 chinese", strings.Repeat("續", 70), 1, encodingUCS2},
		{"71 chinese", strings.Repeat("續", 71), 2, encodingUCS2},
		{"134 chinese", strings.Repeat("續", 134), 2, encodingUCS2},
		{"135 chinese", strings.Repeat("續", 135), 3, encodingUCS2},
		{"one emoji makes ucs2", strings.Repeat("a", 69) + "🙂", 2, encodingUCS2},
		{"curly quote makes ucs2", "it’s", 1, encodingUCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, enc := segmentsOf(tt.body)
			if n != tt.segments || enc != tt.encoding {
				t.Fatalf("segmentsOf = %d %s, want %d %s", n, enc, tt.segments, tt.encoding)
			}
		})
	}
}
