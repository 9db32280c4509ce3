package sms

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestSegments(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	zh := func(n int) string { return strings.Repeat("中", n) }
	const smile = "😀" // U+1F600, outside the BMP: two UTF-16 units

	tests := []struct {
		name           string
		givenBody      string
		expectEnc      Encoding
		expectSegments int
		expectUnits    int
	}{
		{name: "empty", givenBody: "", expectEnc: GSM7, expectSegments: 1, expectUnits: 0},
		{name: "gsm one char", givenBody: "1", expectEnc: GSM7, expectSegments: 1, expectUnits: 1},
		{name: "gsm 160 fits one", givenBody: a(160), expectEnc: GSM7, expectSegments: 1, expectUnits: 160},
		{name: "gsm 161 splits", givenBody: a(161), expectEnc: GSM7, expectSegments: 2, expectUnits: 161},
		{name: "gsm 153*2 is two", givenBody: a(306), expectEnc: GSM7, expectSegments: 2, expectUnits: 306},
		{name: "gsm 153*2+1 is three", givenBody: a(307), expectEnc: GSM7, expectSegments: 3, expectUnits: 307},
		{name: "gsm 153*3 is three", givenBody: a(459), expectEnc: GSM7, expectSegments: 3, expectUnits: 459},
		{name: "escape pair ending on 160 fits one", givenBody: a(158) + "€", expectEnc: GSM7, expectSegments: 1, expectUnits: 160},
		{name: "escape pair past 160 splits", givenBody: a(159) + "€", expectEnc: GSM7, expectSegments: 2, expectUnits: 161},
		// 152 septets then an escape pair: the pair moves to part 2, leaving 152 in part 1.
		{name: "escape pair at part boundary moves whole", givenBody: a(152) + "€" + a(151), expectEnc: GSM7, expectSegments: 2, expectUnits: 305},
		// 306 septets would be two full parts, but part 1 holds only 152, so one septet spills.
		{name: "escape pair at part boundary adds a part", givenBody: a(152) + "€" + a(152), expectEnc: GSM7, expectSegments: 3, expectUnits: 306},
		{name: "escape pair ending exactly on 153", givenBody: a(151) + "€" + a(153), expectEnc: GSM7, expectSegments: 2, expectUnits: 306},
		{name: "80 extension chars fit one", givenBody: strings.Repeat("€", 80), expectEnc: GSM7, expectSegments: 1, expectUnits: 160},
		{name: "81 extension chars split 76+5", givenBody: strings.Repeat("€", 81), expectEnc: GSM7, expectSegments: 2, expectUnits: 162},
		{name: "153 extension chars need three parts of 76", givenBody: strings.Repeat("€", 153), expectEnc: GSM7, expectSegments: 3, expectUnits: 306},
		{name: "every extension char counts two", givenBody: "\f^{}\\[~]|€", expectEnc: GSM7, expectSegments: 1, expectUnits: 20},
		{name: "gsm accents and greek count one", givenBody: "£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", expectEnc: GSM7, expectSegments: 1, expectUnits: 41},
		{name: "crlf counts two", givenBody: "a\r\nb", expectEnc: GSM7, expectSegments: 1, expectUnits: 4},
		{name: "one non-gsm char makes it ucs2", givenBody: a(100) + "ç", expectEnc: UCS2, expectSegments: 2, expectUnits: 101},
		{name: "typographic apostrophe is ucs2", givenBody: "Don’t", expectEnc: UCS2, expectSegments: 1, expectUnits: 5},
		{name: "backtick is ucs2", givenBody: "`", expectEnc: UCS2, expectSegments: 1, expectUnits: 1},
		{name: "tab is ucs2", givenBody: "a\tb", expectEnc: UCS2, expectSegments: 1, expectUnits: 3},
		{name: "escape char itself is ucs2", givenBody: "\x1b", expectEnc: UCS2, expectSegments: 1, expectUnits: 1},
		{name: "extension char counts one in ucs2", givenBody: "€中", expectEnc: UCS2, expectSegments: 1, expectUnits: 2},
		{name: "ucs2 70 fits one", givenBody: zh(70), expectEnc: UCS2, expectSegments: 1, expectUnits: 70},
		{name: "ucs2 71 splits", givenBody: zh(71), expectEnc: UCS2, expectSegments: 2, expectUnits: 71},
		{name: "ucs2 67*2 is two", givenBody: zh(134), expectEnc: UCS2, expectSegments: 2, expectUnits: 134},
		{name: "ucs2 67*2+1 is three", givenBody: zh(135), expectEnc: UCS2, expectSegments: 3, expectUnits: 135},
		{name: "35 emoji fill one", givenBody: strings.Repeat(smile, 35), expectEnc: UCS2, expectSegments: 1, expectUnits: 70},
		{name: "36 emoji split 33+3", givenBody: strings.Repeat(smile, 36), expectEnc: UCS2, expectSegments: 2, expectUnits: 72},
		{name: "emoji ending on 70 fits one", givenBody: zh(68) + smile, expectEnc: UCS2, expectSegments: 1, expectUnits: 70},
		{name: "emoji past 70 splits", givenBody: zh(69) + smile, expectEnc: UCS2, expectSegments: 2, expectUnits: 71},
		// 66 units then a surrogate pair: the pair moves to part 2, leaving 66 in part 1.
		{name: "emoji at part boundary moves whole", givenBody: zh(66) + smile + zh(65), expectEnc: UCS2, expectSegments: 2, expectUnits: 133},
		{name: "emoji at part boundary adds a part", givenBody: zh(66) + smile + zh(66), expectEnc: UCS2, expectSegments: 3, expectUnits: 134},
		{name: "emoji ending exactly on 67", givenBody: zh(65) + smile + zh(67), expectEnc: UCS2, expectSegments: 2, expectUnits: 134},
		{
			name:           "traditional chinese prompt",
			givenBody:      "您的泊車時間將於10:05屆滿。回覆1即延長30分鐘（HK$12），回覆2稍後提醒，回覆3於應用程式續期。",
			expectEnc:      UCS2,
			expectSegments: 1,
			expectUnits:    53,
		},
		{
			name:           "simplified chinese prompt over one part",
			givenBody:      "您在中环皇后大道中12号车位的停车时间将于10:05到期。回复1立即延长30分钟，费用港币12元，将从尾号1234的信用卡扣款；回复2稍后提醒；回复3在应用程式内续期。回复停止退订。",
			expectEnc:      UCS2,
			expectSegments: 2,
			expectUnits:    91,
		},
		{name: "invalid utf-8 is ucs2", givenBody: "ok\xff", expectEnc: UCS2, expectSegments: 1, expectUnits: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, segments, units := Segments(tc.givenBody)
			if enc != tc.expectEnc || segments != tc.expectSegments || units != tc.expectUnits {
				t.Fatalf("Segments() = (%v, %d, %d), expect (%v, %d, %d)",
					enc, segments, units, tc.expectEnc, tc.expectSegments, tc.expectUnits)
			}
			checkSplit(t, tc.givenBody, enc, segments, units)
		})
	}
}

func TestGSMAlphabet(t *testing.T) {
	if n := utf8.RuneCountInString(gsmBasic); n != 128 {
		t.Fatalf("basic table has %d positions, expect 128", n)
	}
	if got := []rune(gsmBasic)[0x1B]; got != 0 {
		t.Fatalf("position 0x1B is %q, expect the escape placeholder", got)
	}
	// Spot checks of code positions against GSM 03.38.
	for pos, want := range map[int]rune{0x00: '@', 0x02: '$', 0x09: 'Ç', 0x11: '_', 0x24: '¤', 0x40: '¡', 0x5F: '§', 0x60: '¿', 0x7F: 'à'} {
		if got := []rune(gsmBasic)[pos]; got != want {
			t.Errorf("position %#02x is %q, expect %q", pos, got, want)
		}
	}
	if len(gsmSeptets) != 127+10 {
		t.Fatalf("alphabet has %d characters, expect 137", len(gsmSeptets))
	}
	// Printable ASCII is GSM-7 except the backtick and the extension characters.
	for r := rune(0x20); r < 0x7F; r++ {
		want := 1
		switch {
		case r == '`':
			want = 0
		case strings.ContainsRune("^{}\\[~]|", r):
			want = 2
		}
		if got := gsmSeptets[r]; got != want {
			t.Errorf("%q takes %d septets, expect %d", r, got, want)
		}
	}
}

func TestIsGSM7(t *testing.T) {
	tests := []struct {
		givenBody string
		expect    bool
	}{
		{givenBody: "", expect: true},
		{givenBody: "Reply 1 to extend (€2.50) @ bay #12 {ok}", expect: true},
		{givenBody: "Ωmega §1 ¿qué?", expect: true},
		{givenBody: "Café", expect: true},
		{givenBody: "Garçon", expect: false},
		{givenBody: "It’s", expect: false},
		{givenBody: "停車", expect: false},
		{givenBody: "ok 👍", expect: false},
		{givenBody: "\u00a0", expect: false},
	}
	for _, tc := range tests {
		if got := IsGSM7(tc.givenBody); got != tc.expect {
			t.Errorf("IsGSM7(%q) = %v, expect %v", tc.givenBody, got, tc.expect)
		}
	}
}

func TestFitsSegments(t *testing.T) {
	tests := []struct {
		givenBody string
		givenMax  int
		expect    bool
	}{
		{givenBody: "", givenMax: 1, expect: true},
		{givenBody: "", givenMax: 0, expect: false},
		{givenBody: "hi", givenMax: -1, expect: false},
		{givenBody: strings.Repeat("a", 160), givenMax: 1, expect: true},
		{givenBody: strings.Repeat("a", 161), givenMax: 1, expect: false},
		{givenBody: strings.Repeat("a", 161), givenMax: 2, expect: true},
		{givenBody: strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), givenMax: 2, expect: false},
		{givenBody: strings.Repeat("中", 70), givenMax: 1, expect: true},
		{givenBody: strings.Repeat("中", 71), givenMax: 1, expect: false},
		{givenBody: strings.Repeat("a", 159) + "中", givenMax: 1, expect: false},
		{givenBody: strings.Repeat("a", 159) + "中", givenMax: 3, expect: true},
	}
	for _, tc := range tests {
		if got := FitsSegments(tc.givenBody, tc.givenMax); got != tc.expect {
			t.Errorf("FitsSegments(%d runes, %d) = %v, expect %v",
				utf8.RuneCountInString(tc.givenBody), tc.givenMax, got, tc.expect)
		}
	}
}

func TestEncodingString(t *testing.T) {
	for enc, want := range map[Encoding]string{GSM7: "GSM-7", UCS2: "UCS-2", Encoding(7): "Encoding(7)"} {
		if got := enc.String(); got != want {
			t.Errorf("Encoding(%d).String() = %q, expect %q", int(enc), got, want)
		}
	}
}

func FuzzSegments(f *testing.F) {
	for _, seed := range []string{
		"", "Reply 1 to extend", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152),
		strings.Repeat("中", 66) + "😀" + strings.Repeat("中", 66), "停車\xff", "\x1b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		enc, segments, units := Segments(body)
		if segments < 1 {
			t.Fatalf("segments = %d, expect >= 1", segments)
		}
		allGSM := true
		for _, r := range body {
			if _, ok := gsmSeptets[r]; !ok {
				allGSM = false
			}
		}
		if (enc == GSM7) != allGSM {
			t.Fatalf("encoding %v but every rune GSM = %v", enc, allGSM)
		}
		if IsGSM7(body) != allGSM {
			t.Fatalf("IsGSM7 = %v but every rune GSM = %v", IsGSM7(body), allGSM)
		}
		runes := utf8.RuneCountInString(body)
		switch enc {
		case GSM7:
			if units < runes || units > 2*runes {
				t.Fatalf("%d septets for %d runes", units, runes)
			}
		case UCS2:
			if want := len(utf16.Encode([]rune(body))); units != want {
				t.Fatalf("%d units, expect %d UTF-16 units", units, want)
			}
		default:
			t.Fatalf("unexpected encoding %v", enc)
		}
		checkSplit(t, body, enc, segments, units)
		if !FitsSegments(body, segments) || FitsSegments(body, segments-1) {
			t.Fatalf("FitsSegments disagrees with %d segments", segments)
		}
	})
}

// checkSplit verifies that segments is the number of parts of a greedy split of body that never
// cuts a character and never overfills a part.
func checkSplit(t *testing.T, body string, enc Encoding, segments, units int) {
	t.Helper()
	single, perPart := segmentLimits(enc)
	if units <= single {
		if segments != 1 {
			t.Fatalf("%d units fit one segment, got %d", units, segments)
		}
		return
	}
	lo := (units + perPart - 1) / perPart
	hi := (units + perPart - 2) / (perPart - 1)
	if segments < lo || segments > hi {
		t.Fatalf("%d segments for %d units, expect %d..%d", segments, units, lo, hi)
	}
	starts := segmentStarts(body, enc)
	if len(starts) != segments {
		t.Fatalf("split into %d parts, Segments says %d", len(starts), segments)
	}
	var joined strings.Builder
	for i, start := range starts {
		end := len(body)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		part := body[start:end]
		joined.WriteString(part)
		n := countUnits(part, enc)
		if n == 0 || n > perPart {
			t.Fatalf("part %d holds %d units, expect 1..%d", i, n, perPart)
		}
		if i+1 < len(starts) {
			next, _ := utf8.DecodeRuneInString(body[end:])
			if n+unitWidth(next, enc) <= perPart {
				t.Fatalf("part %d ends at %d units although the next character fits", i, n)
			}
		}
	}
	if joined.String() != body {
		t.Fatalf("parts do not join back into the body")
	}
}
