package engine

import "time"

// User is a registered driver: a phone, a language and one registered card.
// Card data is a gateway token plus the last four digits, never a number.
type User struct {
	ID        string   `json:"id"`
	Phone     string   `json:"phone"`
	Language  string   `json:"language"`
	CardToken string   `json:"card_token"`
	CardLast4 string   `json:"card_last4"`
	CardKind  CardKind `json:"card_kind"`
	// Channel is how the driver wants to be reached first: "sms", "voice"
	// (a phone call with a keypad menu) or "push"; empty follows the
	// operator's order.
	Channel string `json:"channel,omitempty"`
	// Channels is the driver's full preferred order, within what the
	// operator allows; it wins over Channel.
	Channels []string `json:"channels,omitempty"`
	// LeadTime is the driver's reminder lead time (within the operator's
	// range); zero uses the operator's.
	LeadTime time.Duration `json:"lead_time,omitempty"`
	// CallsInQuietHours lets calls reach the driver during quiet hours.
	CallsInQuietHours bool `json:"calls_in_quiet_hours,omitempty"`
	// PINHash is the bcrypt hash of the driver's voice PIN, if any.
	PINHash   string    `json:"pin_hash,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}
