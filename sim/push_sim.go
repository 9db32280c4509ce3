package sim

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Sentinel errors of the push simulator.
var (
	// ErrAppRegistration means a simulated app could not register its
	// device with the server.
	ErrAppRegistration = errors.New("sim: app device registration failed")
	// ErrInvalidPush means a push control request is malformed.
	ErrInvalidPush = errors.New("sim: invalid push request")
)

// Push providers.
const (
	ProviderFCM  = "fcm"
	ProviderAPNs = "apns"
)

// Push is one request a fake push service received for a device token,
// delivered or refused.
type Push struct {
	// ID is the provider's message id (FCM name or apns-id); empty when
	// refused.
	ID       string    `json:"id,omitempty"`
	Provider string    `json:"provider"`
	Token    string    `json:"token"`
	At       time.Time `json:"at"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	// Category is the action set (FCM: the APNs category or Android click
	// action; APNs: aps.category).
	Category string `json:"category,omitempty"`
	// Data is FCM's data, or APNs' custom keys.
	Data map[string]string `json:"data,omitempty"`
	// CollapseID is the Android collapse key or apns-collapse-id.
	CollapseID string `json:"collapse_id,omitempty"`
	// Status is the HTTP status answered; Reason the error reason
	// (UNREGISTERED, Unregistered, BadDeviceToken, …).
	Status int    `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Proto is the request's protocol ("HTTP/2.0" for APNs).
	Proto string `json:"proto"`
	// App is the simulated app that received it.
	App string `json:"app,omitempty"`
}

// PushFault makes the next Count requests to a fake push service fail with
// Status (FCM: 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE, 401,
// 403; APNs: 429 TooManyRequests, 500 InternalServerError, 503
// ServiceUnavailable, 403 InvalidProviderToken).
type PushFault struct {
	Provider string `json:"provider"`
	Status   int    `json:"status"`
	Count    int    `json:"count"`
}

// PushSim is a fake FCM HTTP v1 endpoint (mounted on the simulator's Echo),
// a fake APNs server (HTTP/2 over TLS on its own port) and simulated apps
// that receive the pushes and press their buttons. State is in memory.
type PushSim struct {
	cfg  PushConfig
	log  *slog.Logger
	apns *httptest.Server

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	pushes  []Push
	invalid map[string]bool
	faults  []*PushFault
	apps    map[string]*appState
	appList []*appState
	byToken map[string]*appState
}

// NewPushSim starts the fake APNs server and returns the push simulator.
// Close stops it.
func NewPushSim(cfg PushConfig) *PushSim {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	ps := &PushSim{
		cfg: cfg, log: cfg.Logger.With("component", "sim.push"),
		ctx: ctx, cancel: cancel,
		invalid: map[string]bool{}, apps: map[string]*appState{}, byToken: map[string]*appState{},
	}
	ps.apns = httptest.NewUnstartedServer(ps.apnsHandler())
	ps.apns.EnableHTTP2 = true
	ps.apns.StartTLS()
	return ps
}

// Close stops the fake APNs server and the simulated apps' pending
// presses.
func (ps *PushSim) Close() {
	ps.cancel()
	ps.apns.Close()
	ps.wg.Wait()
}

// Register mounts the fake FCM (/fcm/v1/projects/{project}/messages:send)
// and the control routes /sim/v1/pushes, /sim/v1/push/… and /sim/v1/apps.
func (ps *PushSim) Register(e *echo.Echo) {
	e.POST("/fcm/v1/projects/:project/*", ps.handleFCMSend)
	ps.registerControl(e)
}

// APNsURL is the fake APNs server's base URL (an apns2 client's Host).
func (ps *PushSim) APNsURL() string { return ps.apns.URL }

// CertPool trusts the fake APNs server's certificate.
func (ps *PushSim) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ps.apns.Certificate())
	return pool
}

// APNsCertificate is the fake APNs server's certificate, for a server in
// another process to trust (see CertPool).
func (ps *PushSim) APNsCertificate() *x509.Certificate { return ps.apns.Certificate() }

// FCMBase is the fake FCM's endpoint, for option.WithEndpoint:
// SimURL + "/fcm/v1".
func (ps *PushSim) FCMBase() string { return strings.TrimRight(ps.cfg.SimURL, "/") + "/fcm/v1" }

// FCMProject is the Firebase project the fake FCM accepts ("" for any).
func (ps *PushSim) FCMProject() string { return ps.cfg.FCMProject }

// Invalidate marks a device token invalid: both fakes refuse it from now on
// as unregistered (FCM 404 UNREGISTERED, APNs 410 Unregistered).
func (ps *PushSim) Invalidate(token string) error {
	if strings.TrimSpace(token) == "" {
		return ErrInvalidPush
	}
	ps.mu.Lock()
	ps.invalid[token] = true
	if a := ps.byToken[token]; a != nil {
		a.app.Invalidated = true
		a.changedLocked()
	}
	ps.mu.Unlock()
	ps.log.Info("device token invalidated", "device", maskSecret(token))
	return nil
}

// Pushes returns the pushes received for a device token (every push when
// token is empty), oldest first.
func (ps *PushSim) Pushes(token string) []Push {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := []Push{}
	for _, p := range ps.pushes {
		if token == "" || p.Token == token {
			out = append(out, clonePush(p))
		}
	}
	return out
}

// PushProviders lists the providers whose fake services InjectPushFault
// can make fail.
func PushProviders() []string { return []string{ProviderFCM, ProviderAPNs} }

// InjectPushFault arms a fault.
func (ps *PushSim) InjectPushFault(f PushFault) error {
	if !slices.Contains(PushProviders(), f.Provider) || f.Status < 400 || f.Status > 599 {
		return ErrInvalidPush
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	ps.mu.Lock()
	ps.faults = append(ps.faults, &f)
	ps.mu.Unlock()
	return nil
}

// PushFaults returns the armed faults.
func (ps *PushSim) PushFaults() []PushFault {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := []PushFault{}
	for _, f := range ps.faults {
		out = append(out, *f)
	}
	return out
}

// ClearPushFaults disarms every fault.
func (ps *PushSim) ClearPushFaults() {
	ps.mu.Lock()
	ps.faults = nil
	ps.mu.Unlock()
}

// takeFault consumes one armed fault of a provider; 0 when none.
func (ps *PushSim) takeFault(provider string) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i, f := range ps.faults {
		if f.Provider != provider {
			continue
		}
		f.Count--
		if f.Count <= 0 {
			ps.faults = append(ps.faults[:i], ps.faults[i+1:]...)
		}
		return f.Status
	}
	return 0
}

func (ps *PushSim) isInvalid(token string) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.invalid[token]
}

// record stores a push and, when delivered to a simulated app's token,
// hands it to the app.
func (ps *PushSim) record(p Push) {
	ps.mu.Lock()
	var app *appState
	if p.Status == 200 {
		app = ps.byToken[p.Token]
		if app != nil {
			p.App = app.app.ID
		}
	}
	ps.pushes = append(ps.pushes, p)
	ps.mu.Unlock()
	ps.log.Info("push", "provider", p.Provider, "device", maskSecret(p.Token), "status", p.Status, "reason", p.Reason)
	if app != nil {
		ps.deliver(app, p)
	}
}

func clonePush(p Push) Push {
	if p.Data != nil {
		d := make(map[string]string, len(p.Data))
		for k, v := range p.Data {
			d[k] = v
		}
		p.Data = d
	}
	return p
}

var (
	fcmTokenForm  = regexp.MustCompile(`^[A-Za-z0-9_:.\-]{20,1000}$`)
	apnsTokenForm = regexp.MustCompile(`^([0-9a-fA-F]{2}){32,100}$`)
)
