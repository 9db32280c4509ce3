package sms

// Twilio message statuses ranked so that a status only ever moves forward.
// Ranks of 100 and more are terminal.
var statusRank = map[string]int{
	"intent": 1, "accepted": 5, "scheduled": 6, "queued": 10, "sending": 20, "sent": 30,
	"delivered": 100, "undelivered": 100, "failed": 100, "canceled": 100, "read": 110,
	"suppressed": 100, "expired": 100,
}

// Terminal reports whether a message status is final.
func Terminal(status string) bool { return statusRank[status] >= 100 }

// Twilio error codes the sender and status callback act on.
const (
	ErrCodeInvalidTo   = 21211 // the To number is not valid
	ErrCodeOptedOut    = 21610 // the recipient replied STOP
	ErrCodeNotMobile   = 21614 // To is not a mobile number
	ErrCodeUnreachable = 30003 // handset unreachable: retried once
	ErrCodeLandline    = 30006 // landline or unreachable carrier: not retried
	ErrCodeFiltered    = 30007 // carrier filtering
)

// permanentCodes fail a send at once.
var permanentCodes = map[int]bool{
	ErrCodeInvalidTo: true, ErrCodeOptedOut: true, ErrCodeNotMobile: true, ErrCodeLandline: true,
	ErrCodeFiltered: true, 21408: true, 21606: true, 21612: true,
}
