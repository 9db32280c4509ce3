package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"ppprenew/workflows"
)

// FCMConfig configures the Firebase Cloud Messaging HTTP v1 provider.
type FCMConfig struct {
	// ProjectID is the Firebase project the messages are sent in.
	ProjectID string
	// CredentialsFile is a service-account JSON key file. When empty and
	// Endpoint is Google's, Application Default Credentials are used
	// (GOOGLE_APPLICATION_CREDENTIALS).
	CredentialsFile string
	// Endpoint replaces Google's https://fcm.googleapis.com/v1, for the
	// simulator ("<sim>/fcm/v1"). With an Endpoint and no CredentialsFile no
	// Google credentials are looked for.
	Endpoint string
	// AccessToken is a static bearer token sent with every request to
	// Endpoint (the simulator's); empty sends none.
	AccessToken string
	// Timeout bounds one send.
	Timeout time.Duration
}

// DefaultFCMConfig returns a 10 s timeout and Google's endpoint.
func DefaultFCMConfig() FCMConfig { return FCMConfig{Timeout: 10 * time.Second} }

// FCM sends notifications through FCM HTTP v1 with the Firebase Admin SDK.
type FCM struct {
	client  *messaging.Client
	timeout time.Duration
}

var _ Provider = (*FCM)(nil)

// NewFCM returns an FCM provider. opts are passed to the Firebase app after
// the ones cfg implies.
func NewFCM(ctx context.Context, cfg FCMConfig, opts ...option.ClientOption) (*FCM, error) {
	if cfg.ProjectID == "" {
		return nil, errors.New("push: FCM project id is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultFCMConfig().Timeout
	}
	var o []option.ClientOption
	if cfg.Endpoint != "" {
		o = append(o, option.WithEndpoint(strings.TrimRight(cfg.Endpoint, "/")))
	}
	switch {
	case cfg.CredentialsFile != "":
		o = append(o, option.WithCredentialsFile(cfg.CredentialsFile))
	case cfg.Endpoint != "" && cfg.AccessToken != "":
		o = append(o, option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.AccessToken, TokenType: "Bearer"})))
	case cfg.Endpoint != "":
		o = append(o, option.WithoutAuthentication())
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.ProjectID}, append(o, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("push: firebase app: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("push: firebase messaging: %w", err)
	}
	return &FCM{client: client, timeout: cfg.Timeout}, nil
}

// Send implements Provider.
func (f *FCM) Send(ctx context.Context, n Notification) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	id, err := f.client.Send(ctx, fcmMessage(n))
	if err != nil {
		return "", classifyFCM(err)
	}
	return id, nil
}

// fcmMessage is the HTTP v1 message: the visible notification, the data,
// Android collapse key and lifetime, and the APNs category and collapse id
// for iOS apps registered through Firebase. A silent notification is
// data-only (and a background push on iOS).
func fcmMessage(n Notification) *messaging.Message {
	m := &messaging.Message{
		Token:        n.Token,
		Data:         n.Data(),
		Notification: &messaging.Notification{Title: n.Title, Body: n.Body},
		Android: &messaging.AndroidConfig{
			CollapseKey: collapseID(n.CollapseKey),
			Priority:    "high",
			Notification: &messaging.AndroidNotification{
				ClickAction: n.Category,
				Tag:         n.Conv,
			},
		},
		APNS: &messaging.APNSConfig{
			Headers: map[string]string{"apns-priority": "10"},
			Payload: &messaging.APNSPayload{Aps: &messaging.Aps{Category: n.Category, ThreadID: n.Conv, Sound: "default"}},
		},
	}
	if n.Silent {
		m.Notification, m.Android.Notification = nil, nil
		m.APNS.Headers = map[string]string{"apns-priority": "5", "apns-push-type": "background"}
		m.APNS.Payload = &messaging.APNSPayload{Aps: &messaging.Aps{ContentAvailable: true}}
	}
	if k := collapseID(n.CollapseKey); k != "" {
		m.APNS.Headers["apns-collapse-id"] = k
	}
	if n.TTL > 0 {
		ttl := n.TTL
		m.Android.TTL = &ttl
	}
	if !n.ExpiresAt.IsZero() {
		m.APNS.Headers["apns-expiration"] = fmt.Sprint(n.ExpiresAt.Unix())
	}
	return m
}

// classifyFCM turns an FCM error into ErrInvalidToken or a SendError.
func classifyFCM(err error) error {
	status := 0
	if r := errorutils.HTTPResponse(err); r != nil {
		status = r.StatusCode
	}
	msg := err.Error()
	switch {
	case messaging.IsUnregistered(err):
		return fmt.Errorf("%w: FCM UNREGISTERED: %s", ErrInvalidToken, msg)
	case errorutils.IsInvalidArgument(err) && fcmTokenRejected(err):
		return fmt.Errorf("%w: FCM INVALID_ARGUMENT: %s", ErrInvalidToken, msg)
	case messaging.IsQuotaExceeded(err), messaging.IsUnavailable(err), messaging.IsInternal(err),
		errorutils.IsResourceExhausted(err), errorutils.IsUnavailable(err), errorutils.IsInternal(err),
		errorutils.IsDeadlineExceeded(err), errorutils.IsUnknown(err):
		return &workflows.SendError{Code: status, Message: "FCM: " + msg, Temporary: true}
	case status >= 400 && status < 500:
		// Bad payload, sender id mismatch, APNs credentials at Firebase,
		// our own credentials: sending again will not help.
		return &workflows.SendError{Code: status, Message: "FCM: " + msg}
	}
	// Transport errors and cancelled contexts: the outcome is unknown.
	return &workflows.SendError{Code: status, Message: "FCM: " + msg, Temporary: true}
}

// fcmTokenRejected reports whether an INVALID_ARGUMENT error is about the
// registration token (a google.rpc.BadRequest field violation on
// message.token, or FCM's "registration token" message) rather than the
// payload.
func fcmTokenRejected(err error) bool {
	if strings.Contains(strings.ToLower(err.Error()), "registration token") {
		return true
	}
	r := errorutils.HTTPResponse(err)
	if r == nil || r.Body == nil {
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	var e struct {
		Error struct {
			Details []struct {
				Type            string `json:"@type"`
				FieldViolations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return false
	}
	for _, d := range e.Error.Details {
		for _, v := range d.FieldViolations {
			if v.Field == "message.token" {
				return true
			}
		}
	}
	return false
}
