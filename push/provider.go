package push

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// Platform names a push service.
type Platform string

// Platforms.
const (
	// PlatformFCM is Firebase Cloud Messaging (Android, and iOS apps that
	// register through Firebase).
	PlatformFCM Platform = "fcm"
	// PlatformAPNs is the Apple Push Notification service.
	PlatformAPNs Platform = "apns"
)

var (
	fcmToken  = regexp.MustCompile(`^[A-Za-z0-9_:.\-]+$`)
	apnsToken = regexp.MustCompile(`^([0-9a-fA-F]{2}){32,100}$`)
)

// ParsePlatform checks a platform name.
func ParsePlatform(s string) (Platform, error) {
	switch p := Platform(s); p {
	case PlatformFCM, PlatformAPNs:
		return p, nil
	}
	return "", fmt.Errorf("%w %q: want fcm or apns", ErrUnknownPlatform, s)
}

// ValidToken checks that a device token has its platform's form: an FCM
// registration token (letters, digits, "_", ":", ".", "-"; 20 to 4096
// characters) or an APNs device token (at least 64 hex digits).
func ValidToken(p Platform, token string) error {
	ok := false
	switch p {
	case PlatformFCM:
		ok = len(token) >= 20 && len(token) <= 4096 && fcmToken.MatchString(token)
	case PlatformAPNs:
		ok = apnsToken.MatchString(token)
	default:
		return fmt.Errorf("%w %q", ErrUnknownPlatform, p)
	}
	if !ok {
		return fmt.Errorf("%w for %s", ErrBadDeviceToken, p)
	}
	return nil
}

// Provider delivers one notification to one device.
//
// Send returns the provider's message id. Errors are ErrInvalidToken
// (wrapped) when the token must be removed, otherwise a
// *workflows.SendError whose Temporary field says whether sending again may
// succeed.
type Provider interface {
	Send(ctx context.Context, n Notification) (providerMessageID string, err error)
}

// Notification categories: the set of action buttons the app shows.
const (
	// CategoryRenewal offers extend ("1"), remind ("2") and open app ("3").
	CategoryRenewal = "RENEWAL"
	// CategoryQuote offers confirm ("yes") and cancel ("no").
	CategoryQuote = "RENEWAL_QUOTE"
)

// Action is a notification button: pressing it answers the conversation.
type Action struct {
	// ID names the button for the app ("extend", "remind", "open_app",
	// "confirm", "cancel").
	ID string `json:"id"`
	// Answer is what pressing it answers ("1", "2", "3", "yes", "no").
	Answer string `json:"answer"`
	// Title is the button's label in the driver's language.
	Title string `json:"title"`
}

// Notification is one push to one device, whatever the provider.
type Notification struct {
	// Token is the device token.
	Token string
	// Title and Body are the visible text; Body is the message.
	Title string
	Body  string
	// Conv, MeterID, Bay, Location and PaidUntil describe the parking
	// session; empty for messages that belong to no conversation.
	Conv      string
	MeterID   string
	Bay       string
	Location  string
	PaidUntil time.Time
	// Template names the message ("notice", "quote", …).
	Template string
	// Language is the message's language.
	Language string
	// Link opens the app on the conversation: "ppp://renew?c=<conv>".
	Link string
	// Silent notifications show nothing: they tell the app to update itself
	// (Template "dismiss": close the conversation's prompt). FCM sends them
	// data-only, APNs as background pushes.
	Silent bool
	// Category and Actions are the buttons; empty for plain messages.
	Category string
	Actions  []Action
	// CollapseKey makes a repeated delivery replace the earlier one on the
	// device (the effect id).
	CollapseKey string
	// ExpiresAt is when the message is no longer worth delivering (APNs
	// apns-expiration) and TTL the same as a lifetime from now (FCM); zero
	// leaves the provider's default.
	ExpiresAt time.Time
	TTL       time.Duration
}

// Data is the notification's key-value payload: conv, meter, bay,
// location, paid_until (RFC 3339), template, language, link, category and
// actions (JSON), empty values left out.
func (n Notification) Data() map[string]string {
	d := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set("conv", n.Conv)
	set("meter", n.MeterID)
	set("bay", n.Bay)
	set("location", n.Location)
	if !n.PaidUntil.IsZero() {
		d["paid_until"] = n.PaidUntil.UTC().Format(time.RFC3339)
	}
	set("template", n.Template)
	set("language", n.Language)
	set("link", n.Link)
	set("category", n.Category)
	if len(n.Actions) > 0 {
		d["actions"] = actionsJSON(n.Actions)
	}
	return d
}
