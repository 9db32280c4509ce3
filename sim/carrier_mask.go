package sim

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// maskNumber hides a phone number for logs, keeping the country code and the
// last two digits: "+85291234567" -> "+852******67".
func maskNumber(n string) string {
	digits := strings.TrimPrefix(n, "+")
	if digits == "" {
		return ""
	}
	cc := ""
	if pn, err := phonenumbers.Parse(n, ""); err == nil && strings.HasPrefix(n, "+") {
		cc = strconv.Itoa(int(pn.GetCountryCode()))
	}
	if !strings.HasPrefix(digits, cc) {
		cc = ""
	}
	rest := digits[len(cc):]
	keep := 2
	if len(rest) <= keep {
		return "+" + cc + strings.Repeat("*", len(rest))
	}
	return "+" + cc + strings.Repeat("*", len(rest)-keep) + rest[len(rest)-keep:]
}

// maskSecret hides a token or key for logs, keeping its last four characters.
func maskSecret(s string) string {
	if len(s) <= 4 {
		return strings.Repeat("*", len(s))
	}
	return "…" + s[len(s)-4:]
}

// countryOf returns the ISO region of an E.164 number ("HK"), or "".
func countryOf(n string) string {
	pn, err := phonenumbers.Parse(n, "")
	if err != nil {
		return ""
	}
	if r := phonenumbers.GetRegionCodeForNumber(pn); r != "" && r != "ZZ" {
		return r
	}
	if r := phonenumbers.GetRegionCodeForCountryCode(int(pn.GetCountryCode())); r != "ZZ" {
		return r
	}
	return ""
}
