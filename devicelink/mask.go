package devicelink

// maskNumber keeps the leading "+" and country code guess (first 3
// characters) and the last 3 digits of a phone number.
func maskNumber(s string) string {
	if len(s) <= 6 {
		return "***"
	}
	return s[:3] + "***" + s[len(s)-3:]
}
