package sim

import "unicode/utf16"

// Encodings reported for simulated messages.
const (
	encodingGSM7 = "GSM-7"
	encodingUCS2 = "UCS-2"
)

// gsm7Basic is the GSM 03.38 default alphabet (one septet each), without the
// escape character.
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsm7Extension holds the characters sent as escape + septet (two septets).
const gsm7Extension = "\f^{}\\[~]|€"

var gsm7Septets = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsm7Basic {
		m[r] = 1
	}
	for _, r := range gsm7Extension {
		m[r] = 2
	}
	return m
}()

// segmentsOf returns how many SMS segments body needs and its encoding, the
// way Twilio counts them: GSM-7 fits 160 septets in one segment and 153 per
// segment when concatenated (an escape pair is never split); any other
// character makes the whole message UCS-2, 70 UTF-16 units in one segment
// and 67 per concatenated segment (a surrogate pair is never split).
func segmentsOf(body string) (int, string) {
	units := make([]int, 0, len(body))
	gsm := true
	for _, r := range body {
		n, ok := gsm7Septets[r]
		if !ok {
			gsm = false
			break
		}
		units = append(units, n)
	}
	single, multi, enc := 160, 153, encodingGSM7
	if !gsm {
		single, multi, enc = 70, 67, encodingUCS2
		units = units[:0]
		for _, r := range body {
			units = append(units, len(utf16.Encode([]rune{r})))
		}
	}
	total := 0
	for _, u := range units {
		total += u
	}
	if total <= single {
		return 1, enc
	}
	segments, used := 1, 0
	for _, u := range units {
		if used+u > multi {
			segments++
			used = 0
		}
		used += u
	}
	return segments, enc
}
