package sms

import "fmt"

// Encoding is the character encoding a text message travels in.
type Encoding int

const (
	// GSM7 is the GSM 03.38 7-bit default alphabet with its extension table.
	GSM7 Encoding = iota
	// UCS2 is the 16-bit encoding used as soon as one character is outside GSM 03.38. Carriers
	// carry it as UTF-16, so characters outside the Basic Multilingual Plane (most emoji) take
	// two code units.
	UCS2
)

// String returns "GSM-7" or "UCS-2".
func (e Encoding) String() string {
	switch e {
	case GSM7:
		return "GSM-7"
	case UCS2:
		return "UCS-2"
	default:
		return fmt.Sprintf("Encoding(%d)", int(e))
	}
}

// Capacities of one SMS in code units (septets for GSM-7, UTF-16 units for UCS-2). A message
// that does not fit in one SMS is sent as a concatenated message; the User Data Header that
// links the parts takes 6 bytes (7 septets or 3 UCS-2 units) of every part.
const (
	gsm7Single  = 160
	gsm7PerPart = 153
	ucs2Single  = 70
	ucs2PerPart = 67
)

// gsmBasic is the GSM 03.38 default alphabet in code order, 0x00 to 0x7F. Position 0x1B is the
// escape to the extension table and is not a character in its own right, so it is written as
// NUL here and left out of the set.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞ\x00ÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table: each of these characters is sent as the
// escape septet followed by its own septet, so it counts as two.
const gsmExtension = "\f^{}\\[~]|€"

// gsmSeptets maps every GSM-7 character to the number of septets it takes (1 or 2).
var gsmSeptets = buildGSMSeptets()

func buildGSMSeptets() map[rune]int {
	m := make(map[rune]int, 137)
	for _, r := range gsmBasic {
		if r != 0 {
			m[r] = 1
		}
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}

// IsGSM7 reports whether every character of s is in the GSM 03.38 default alphabet or its
// extension table, so that s can be sent as GSM-7. The empty string is GSM-7. A single other
// character (a Chinese character, an emoji, a typographic apostrophe ’, a tab, a lower-case
// ç) makes the whole message UCS-2.
func IsGSM7(s string) bool {
	for _, r := range s {
		if _, ok := gsmSeptets[r]; !ok {
			return false
		}
	}
	return true
}

// Segments reports how body will be sent: its encoding, the number of SMS segments, and its
// length in code units of that encoding (septets for GSM-7, with extension-table characters
// counting two; UTF-16 code units for UCS-2).
//
// GSM-7 fits 160 septets in one segment and 153 per segment once split; an escape pair is never
// split, so a segment that would end on the escape septet holds 152. UCS-2 fits 70 units in one
// segment and 67 per segment once split; a surrogate pair (a character outside the BMP) is never
// split, so such a segment holds 66. An empty body is one segment of zero units.
func Segments(body string) (enc Encoding, segments int, units int) {
	enc = UCS2
	if IsGSM7(body) {
		enc = GSM7
	}
	return enc, len(segmentStarts(body, enc)), countUnits(body, enc)
}

// FitsSegments reports whether body is sent in at most maxSegments segments. It is false for
// maxSegments < 1.
func FitsSegments(body string, maxSegments int) bool {
	if maxSegments < 1 {
		return false
	}
	_, n, _ := Segments(body)
	return n <= maxSegments
}

// unitWidth is the number of code units r takes in enc.
func unitWidth(r rune, enc Encoding) int {
	if enc == GSM7 {
		return gsmSeptets[r]
	}
	if r > 0xFFFF {
		return 2
	}
	return 1
}

// countUnits is the length of body in code units of enc.
func countUnits(body string, enc Encoding) int {
	n := 0
	for _, r := range body {
		n += unitWidth(r, enc)
	}
	return n
}

// segmentLimits returns the capacity of a lone segment and of each part of a concatenated
// message.
func segmentLimits(enc Encoding) (single, perPart int) {
	if enc == GSM7 {
		return gsm7Single, gsm7PerPart
	}
	return ucs2Single, ucs2PerPart
}

// segmentStarts returns the byte offset in body at which each segment begins; its length is the
// number of segments. Parts are filled greedily and a character never straddles two parts.
func segmentStarts(body string, enc Encoding) []int {
	single, perPart := segmentLimits(enc)
	if countUnits(body, enc) <= single {
		return []int{0}
	}
	starts := []int{0}
	used := 0
	for i, r := range body {
		w := unitWidth(r, enc)
		if used+w > perPart {
			starts = append(starts, i)
			used = 0
		}
		used += w
	}
	return starts
}
