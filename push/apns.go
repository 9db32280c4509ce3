package push

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/certificate"
	"github.com/sideshow/apns2/payload"
	"github.com/sideshow/apns2/token"

	"ppprenew/workflows"
)

// APNsConfig configures the Apple Push Notification service provider.
// Token-based authentication (a .p8 key) is used when KeyFile is set,
// certificate authentication when CertFile is set, none otherwise (the
// simulator).
type APNsConfig struct {
	// Host is APNs' base URL: apns2.HostProduction,
	// apns2.HostDevelopment, or the simulator's APNsURL().
	Host string
	// Topic is the app's bundle id (the apns-topic header).
	Topic string
	// KeyFile, KeyID and TeamID are the token-based credentials: the .p8
	// signing key, its key id and the developer team id.
	KeyFile string
	KeyID   string
	TeamID  string
	// CertFile and CertPassword are a .p12 (or .pem) push certificate.
	CertFile     string
	CertPassword string
	// RootCAs are the server certificates trusted; nil trusts the system's
	// (the simulator hands its own pool).
	RootCAs *x509.CertPool
	// Timeout bounds one send.
	Timeout time.Duration
}

// DefaultAPNsConfig returns the production host and a 10 s timeout.
func DefaultAPNsConfig() APNsConfig {
	return APNsConfig{Host: apns2.HostProduction, Timeout: 10 * time.Second}
}

// APNs sends notifications over HTTP/2 to APNs with sideshow/apns2.
type APNs struct {
	client *apns2.Client
	topic  string
}

var _ Provider = (*APNs)(nil)

// NewAPNs returns an APNs provider.
func NewAPNs(cfg APNsConfig) (*APNs, error) {
	d := DefaultAPNsConfig()
	if cfg.Host == "" {
		cfg.Host = d.Host
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.Timeout
	}
	tlsConf := &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	client := &apns2.Client{Host: strings.TrimRight(cfg.Host, "/")}
	switch {
	case cfg.KeyFile != "":
		key, err := token.AuthKeyFromFile(cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("push: APNs key %s: %w", cfg.KeyFile, err)
		}
		if cfg.KeyID == "" || cfg.TeamID == "" {
			return nil, errors.New("push: APNs token auth needs the key id and the team id")
		}
		client.Token = &token.Token{AuthKey: key, KeyID: cfg.KeyID, TeamID: cfg.TeamID}
	case cfg.CertFile != "":
		var cert tls.Certificate
		var err error
		if strings.HasSuffix(cfg.CertFile, ".pem") {
			cert, err = certificate.FromPemFile(cfg.CertFile, cfg.CertPassword)
		} else {
			cert, err = certificate.FromP12File(cfg.CertFile, cfg.CertPassword)
		}
		if err != nil {
			return nil, fmt.Errorf("push: APNs certificate %s: %w", cfg.CertFile, err)
		}
		client.Certificate = cert
		tlsConf.Certificates = []tls.Certificate{cert}
	}
	// APNs speaks HTTP/2 only.
	tr := &http.Transport{TLSClientConfig: tlsConf, ForceAttemptHTTP2: true, Protocols: new(http.Protocols),
		HTTP2: &http.HTTP2Config{SendPingTimeout: apns2.ReadIdleTimeout}}
	tr.Protocols.SetHTTP2(true)
	client.HTTPClient = &http.Client{Transport: tr, Timeout: cfg.Timeout}
	return &APNs{client: client, topic: cfg.Topic}, nil
}

// Close releases the provider's idle connections.
func (a *APNs) Close() { a.client.CloseIdleConnections() }

// Send implements Provider.
func (a *APNs) Send(ctx context.Context, n Notification) (string, error) {
	res, err := a.client.PushWithContext(ctx, apnsNotification(a.topic, n))
	if err != nil {
		return "", &workflows.SendError{Message: "APNs: " + err.Error(), Temporary: true}
	}
	if res.Sent() {
		return res.ApnsID, nil
	}
	return "", classifyAPNs(res)
}

// apnsNotification is the APNs request: alert, category, thread and the
// session data as custom keys, collapsed and expiring like the message; a
// silent notification is a background push with the data only.
func apnsNotification(topic string, n Notification) *apns2.Notification {
	p := payload.NewPayload()
	priority, pushType := apns2.PriorityHigh, apns2.PushTypeAlert
	if n.Silent {
		p.ContentAvailable()
		priority, pushType = apns2.PriorityLow, apns2.PushTypeBackground
	} else {
		p.AlertTitle(n.Title).AlertBody(n.Body).Sound("default").InterruptionLevel(payload.InterruptionLevelTimeSensitive)
	}
	if n.Category != "" {
		p.Category(n.Category)
	}
	if n.Conv != "" {
		p.ThreadID(n.Conv)
	}
	for k, v := range n.Data() {
		if k != "category" {
			p.Custom(k, v)
		}
	}
	out := &apns2.Notification{
		DeviceToken: n.Token,
		Topic:       topic,
		Payload:     p,
		Priority:    priority,
		PushType:    pushType,
		CollapseID:  collapseID(n.CollapseKey),
		Expiration:  n.ExpiresAt,
	}
	if n.CollapseKey != "" {
		// A retried request carries the same apns-id.
		out.ApnsID = uuid.NewSHA1(uuid.NameSpaceURL, []byte(n.CollapseKey+"\x00"+n.Token)).String()
	}
	return out
}

// classifyAPNs turns a refused push into ErrInvalidToken or a SendError.
func classifyAPNs(res *apns2.Response) error {
	msg := fmt.Sprintf("APNs %d %s", res.StatusCode, res.Reason)
	switch {
	case res.StatusCode == http.StatusGone,
		res.StatusCode == http.StatusBadRequest && res.Reason == apns2.ReasonBadDeviceToken:
		return fmt.Errorf("%w: %s", ErrInvalidToken, msg)
	case res.StatusCode == http.StatusTooManyRequests, res.StatusCode >= 500,
		res.Reason == apns2.ReasonExpiredProviderToken, res.Reason == apns2.ReasonTooManyProviderTokenUpdates:
		return &workflows.SendError{Code: res.StatusCode, Message: msg, Temporary: true}
	}
	return &workflows.SendError{Code: res.StatusCode, Message: msg}
}

// collapseID fits a collapse key into APNs' 64 bytes.
func collapseID(key string) string {
	if len(key) <= 64 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "h-" + hex.EncodeToString(sum[:20])
}
