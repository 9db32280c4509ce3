// Package world assembles the simulated world testers drive: the carrier
// (Twilio's Messages and Calls APIs and its webhooks), the drivers' handsets,
// the parking meters on their dial-up device link, the payment gateway and
// the push services (FCM and APNs) with the drivers' apps. It runs as a
// process of its own (`pppsim world`), so the server can crash or restart
// while the world, and everything the testers set up in it, stays.
//
// Everything is served on one address (PPP_SIM_ADDR): the carrier under
// /2010-04-01, the gateway under /pay, FCM under /fcm/v1 and the control API
// under /sim/v1; only the fake APNs server listens on a port of its own,
// published at GET /sim/v1/push/apns with the certificate to trust.
package world

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"ppprenew/push"
	"ppprenew/sim"
	"ppprenew/sim/meter"
	"ppprenew/workflows/carrier"
)

// Push settings the world's fake FCM and APNs answer to; the server in sim
// mode uses the same.
const (
	FCMProject     = push.SimFCMProject
	FCMAccessToken = push.SimFCMAccessToken
	APNsTopic      = push.SimAPNsTopic
)

// Config is what the world needs to know of the server it plays against.
type Config struct {
	// Addr is where the world listens (PPP_SIM_ADDR), e.g. 127.0.0.1:8081;
	// port 0 picks a free one (see URL).
	Addr string
	// Listener, when set, is used instead of listening on Addr.
	Listener net.Listener
	// ServerURL is the server's public base URL: webhooks go to
	// ServerURL/twilio/..., meters connect to ServerURL/device/v1 and are
	// registered at ServerURL/admin/v1.
	ServerURL string
	// AdminToken is the server's admin bearer token (meter registration).
	AdminToken string
	// AccountSID and AuthToken are the carrier account the world accepts and
	// signs its webhooks with.
	AccountSID, AuthToken string
	// PlatformNumbers are the platform's numbers (PPP_SMS_FROM).
	PlatformNumbers []string
	// WakeCallerID is the caller ID the meters accept wake calls from.
	WakeCallerID string
	// GatewayAPIKey is the bearer key the payment gateway accepts.
	GatewayAPIKey string
	// VoiceTick is the real time of one simulated second in a call.
	VoiceTick time.Duration
	// MeterPoll is the meters' loop interval (default 500ms).
	MeterPoll time.Duration
	// ConnectBackDelay is how long a woken meter takes to connect back.
	ConnectBackDelay time.Duration
	// Clock is the world's time (time.Now when nil).
	Clock func() time.Time
	// Logger receives the world's events (slog.Default() when nil).
	Logger *slog.Logger
}

// ConfigFromEnv reads the world's configuration from the same environment
// variables as the server, with the same development defaults, so one
// environment configures both. Every problem is reported at once.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	from := env("PPP_SMS_FROM", "+85258001000")
	c := Config{
		Addr:            env("PPP_SIM_ADDR", "127.0.0.1:8081"),
		ServerURL:       strings.TrimRight(env("PPP_PUBLIC_URL", "http://"+env("PPP_HTTP_ADDR", "127.0.0.1:8080")), "/"),
		AdminToken:      env("PPP_ADMIN_TOKEN", carrier.DevAdminToken),
		AccountSID:      env("TWILIO_ACCOUNT_SID", carrier.DevAccountSID),
		AuthToken:       env("TWILIO_AUTH_TOKEN", carrier.DevAuthToken),
		PlatformNumbers: []string{from},
		WakeCallerID:    env("PPP_WAKE_CALLER_ID", from),
		GatewayAPIKey:   env("PPP_PAYMENT_KEY", carrier.DevPaymentKey),
		VoiceTick:       250 * time.Millisecond,
	}
	var problems []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		problems = append(problems, fmt.Errorf("PPP_SIM_ADDR must be a listen address host:port such as 127.0.0.1:8081, not %q", c.Addr))
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"PPP_SIM_VOICE_TICK", &c.VoiceTick}, {"PPP_SIM_METER_POLL", &c.MeterPoll}} {
		v := env(d.name, "")
		if v == "" {
			continue
		}
		t, err := time.ParseDuration(v)
		if err != nil || t <= 0 || t > time.Minute {
			problems = append(problems, fmt.Errorf("%s must be a positive duration up to 1m such as 5ms, not %q", d.name, v))
			continue
		}
		*d.dst = t
	}
	return c, errors.Join(problems...)
}

// World is the running simulated world.
type World struct {
	Carrier *sim.Carrier
	Gateway *sim.Gateway
	Push    *sim.PushSim
	Fleet   *meter.Fleet

	cfg    Config
	ln     net.Listener
	server *http.Server
	log    *slog.Logger
	wg     sync.WaitGroup
	once   sync.Once
}

// New builds the world and opens its listener; Start serves it.
func New(cfg Config) (*World, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	w := &World{cfg: cfg, ln: cfg.Listener, log: cfg.Logger}
	if w.ln == nil {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("simulated world: listen on PPP_SIM_ADDR %s: %w", cfg.Addr, err)
		}
		w.ln = ln
	}
	simCfg := sim.DefaultConfig()
	simCfg.AccountSID, simCfg.AuthToken = cfg.AccountSID, cfg.AuthToken
	simCfg.PlatformNumbers = cfg.PlatformNumbers
	simCfg.SMSWebhookURL = cfg.ServerURL + "/twilio/sms"
	simCfg.VoiceWebhookURL = cfg.ServerURL + "/twilio/voice"
	simCfg.VoiceStatusCallbackURL = cfg.ServerURL + "/twilio/voice/status"
	if cfg.VoiceTick > 0 {
		simCfg.VoiceTick = cfg.VoiceTick
	}
	simCfg.GatewayAPIKey = cfg.GatewayAPIKey
	simCfg.Clock = cfg.Clock
	simCfg.Logger = cfg.Logger

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	w.Carrier = sim.NewCarrier(simCfg, &http.Client{Timeout: 20 * time.Second})
	w.Carrier.Register(e)
	w.Gateway = sim.NewGateway(simCfg)
	w.Gateway.Register(e)
	w.Fleet = meter.NewFleet(meter.Config{ServerURL: cfg.ServerURL, AdminURL: cfg.ServerURL + "/admin/v1", AdminToken: cfg.AdminToken,
		PollInterval: cfg.MeterPoll, PlatformCallerID: cfg.WakeCallerID, ConnectBackDelay: cfg.ConnectBackDelay, Clock: cfg.Clock})
	w.Carrier.SetCallee(func(ctx context.Context, to, from string) (string, bool) { return w.Fleet.Ring(ctx, to, from) })
	w.Fleet.Register(e)
	w.Push = sim.NewPushSim(sim.PushConfig{Clock: cfg.Clock, SimURL: w.URL(), FCMProject: FCMProject, FCMAccessToken: FCMAccessToken,
		APNsTopic: APNsTopic, Logger: cfg.Logger.With("component", "sim.push")})
	w.Push.Register(e)
	e.GET("/sim/v1/push/apns", w.apnsInfo)
	e.POST("/sim/v1/reset", w.reset)
	e.GET("/sim/v1/world", w.info)
	e.GET("/sim/v1/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	w.server = &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	return w, nil
}

// URL is the world's base URL.
func (w *World) URL() string { return "http://" + w.ln.Addr().String() }

// Addr is the address the world listens on.
func (w *World) Addr() string { return w.ln.Addr().String() }

// Start serves the world in the background.
func (w *World) Start() {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := w.server.Serve(w.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error("simulated world stopped", "err", err)
		}
	}()
}

// Close stops the meters, the calls in progress, the push services and the
// HTTP server.
func (w *World) Close(ctx context.Context) {
	w.once.Do(func() {
		w.Fleet.Close()
		w.Carrier.Close()
		w.Push.Close()
		_ = w.server.Shutdown(ctx)
		_ = w.ln.Close()
		w.wg.Wait()
	})
}

// APNs is how a server in another process reaches the world's fake APNs
// server: its URL and the PEM certificate to trust.
type APNs struct {
	URL   string `json:"url"`
	Topic string `json:"topic"`
	CA    string `json:"ca_pem"`
}

func (w *World) apnsInfo(c echo.Context) error {
	return c.JSON(http.StatusOK, APNs{URL: w.Push.APNsURL(), Topic: APNsTopic, CA: string(certPEM(w.Push.APNsCertificate()))})
}

func certPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// MaxCallsInProgress is the number of calls at once the world's voice
// simulation is rated for: each call is a goroutine ticking simulated
// seconds and making the server's TwiML requests. It is a planning figure
// for load generators (`pppsim load` refuses a voice rate above it), not a
// limit the carrier enforces.
const MaxCallsInProgress = 500

// Info is how the world runs, for testers' tools (GET /sim/v1/world).
type Info struct {
	// ServerURL is the server the world plays against.
	ServerURL string `json:"server_url"`
	// VoiceTick is the real time of one simulated second in a call (a Go
	// duration string such as "250ms").
	VoiceTick string `json:"voice_tick"`
	// MaxCallsInProgress is MaxCallsInProgress.
	MaxCallsInProgress int `json:"max_calls_in_progress"`
}

func (w *World) info(c echo.Context) error {
	tick := w.cfg.VoiceTick
	if tick <= 0 {
		tick = sim.DefaultConfig().VoiceTick
	}
	return c.JSON(http.StatusOK, Info{ServerURL: w.cfg.ServerURL, VoiceTick: tick.String(), MaxCallsInProgress: MaxCallsInProgress})
}

// Reset empties the world: messages, handsets, calls, cards, charges, apps,
// pushes, faults and meters, as when it started.
func (w *World) Reset() {
	w.Fleet.Reset()
	w.Carrier.Reset()
	w.Gateway.Reset()
	w.Push.Reset()
	w.log.Info("the simulated world was reset")
}

func (w *World) reset(c echo.Context) error {
	w.Reset()
	return c.JSON(http.StatusOK, map[string]any{"reset": true})
}
