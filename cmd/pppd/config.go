package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"

	"strconv"
	"strings"
	"time"
)

// Config is the whole server configuration, read from the environment once
// at start-up (see the table in README.md).
type Config struct {
	HTTPAddr     string        // PPP_HTTP_ADDR
	PublicURL    string        // PPP_PUBLIC_URL
	RedisURL     string        // REDIS_URL; empty = embedded in-memory Redis
	Carrier      string        // PPP_CARRIER: sim or twilio
	AccountSID   string        // TWILIO_ACCOUNT_SID
	AuthToken    string        // TWILIO_AUTH_TOKEN
	SMSFrom      string        // PPP_SMS_FROM
	WakeCallerID string        // PPP_WAKE_CALLER_ID
	SMSRate      int           // PPP_SMS_RATE
	SettingsFile string        // PPP_SETTINGS_FILE
	SimAddr      string        // PPP_SIM_ADDR
	SimVoiceTick time.Duration // PPP_SIM_VOICE_TICK
	AdminToken   string        // PPP_ADMIN_TOKEN
	MasterKey    []byte        // PPP_MASTER_KEY (base64, 32 bytes)
	PaymentURL   string        // PPP_PAYMENT_URL
	PaymentKey   string        // PPP_PAYMENT_KEY
	Region       string        // PPP_DEFAULT_REGION
	Workers      int           // PPP_WORKERS
	LogLevel     string        // PPP_LOG_LEVEL
	// Push providers; without them (outside the simulator) push is off.
	FCMProject     string // FCM_PROJECT_ID
	FCMCredentials string // GOOGLE_APPLICATION_CREDENTIALS
	APNsKeyFile    string // APNS_KEY_FILE (.p8)
	APNsKeyID      string // APNS_KEY_ID
	APNsTeamID     string // APNS_TEAM_ID
	APNsTopic      string // APNS_TOPIC (bundle id)
	APNsHost       string // APNS_HOST
	LogJSON        bool   // PPP_LOG_JSON

	// DevCredentials is set when development secrets were generated because
	// none were given; they are printed at start.
	DevCredentials bool
}

// Development defaults used only with the simulated carrier.
const (
	devAccountSID = "AC00000000000000000000000000000dev"
	devAuthToken  = "devtoken00000000000000000000000"
	devAdminToken = "dev-admin-token"
	devPaymentKey = "sk_sim_local"
)

// LoadConfig reads the environment through getenv and validates it.
func LoadConfig(getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		HTTPAddr: env("PPP_HTTP_ADDR", "127.0.0.1:8080"), RedisURL: env("REDIS_URL", ""),
		AccountSID: env("TWILIO_ACCOUNT_SID", ""), AuthToken: env("TWILIO_AUTH_TOKEN", ""),
		SMSFrom: env("PPP_SMS_FROM", "+85258001000"), SettingsFile: env("PPP_SETTINGS_FILE", ""),
		WakeCallerID: env("PPP_WAKE_CALLER_ID", env("PPP_SMS_FROM", "+85258001000")),
		SimAddr:      env("PPP_SIM_ADDR", "127.0.0.1:8081"), AdminToken: env("PPP_ADMIN_TOKEN", ""),
		PaymentURL: env("PPP_PAYMENT_URL", ""), PaymentKey: env("PPP_PAYMENT_KEY", ""),
		Region: env("PPP_DEFAULT_REGION", "HK"), LogLevel: env("PPP_LOG_LEVEL", "info"),
		LogJSON:    env("PPP_LOG_JSON", "") == "1",
		FCMProject: env("FCM_PROJECT_ID", ""), FCMCredentials: env("GOOGLE_APPLICATION_CREDENTIALS", ""),
		APNsKeyFile: env("APNS_KEY_FILE", ""), APNsKeyID: env("APNS_KEY_ID", ""), APNsTeamID: env("APNS_TEAM_ID", ""),
		APNsTopic: env("APNS_TOPIC", ""), APNsHost: env("APNS_HOST", "https://api.push.apple.com"),
	}
	c.PublicURL = strings.TrimRight(env("PPP_PUBLIC_URL", "http://"+c.HTTPAddr), "/")
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	defCarrier := "sim"
	if c.AccountSID != "" && c.AuthToken != "" {
		defCarrier = "twilio"
	}
	c.Carrier = env("PPP_CARRIER", defCarrier)
	switch c.Carrier {
	case "sim":
		if c.AccountSID == "" || c.AuthToken == "" {
			c.AccountSID, c.AuthToken, c.DevCredentials = devAccountSID, devAuthToken, true
		}
		if c.PaymentURL == "" {
			c.PaymentURL = "http://" + c.SimAddr + "/pay"
		}
		if c.PaymentKey == "" {
			c.PaymentKey = devPaymentKey
		}
		if c.AdminToken == "" {
			c.AdminToken, c.DevCredentials = devAdminToken, true
		}
	case "twilio":
		if c.AccountSID == "" || c.AuthToken == "" {
			bad("PPP_CARRIER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
		}
		if c.PaymentURL == "" || c.PaymentKey == "" {
			bad("PPP_CARRIER=twilio needs PPP_PAYMENT_URL and PPP_PAYMENT_KEY (the simulated gateway runs only with PPP_CARRIER=sim)")
		}
		if c.AdminToken == "" {
			bad("PPP_ADMIN_TOKEN must be set outside the simulator")
		}
	default:
		bad("PPP_CARRIER must be sim or twilio, not %q", c.Carrier)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PPP_PUBLIC_URL must be an absolute http(s) URL, not %q", c.PublicURL)
	}
	if k := getenv("PPP_MASTER_KEY"); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			bad("PPP_MASTER_KEY must be 32 bytes in base64 (openssl rand -base64 32)")
		}
		c.MasterKey = key
	} else if c.Carrier == "sim" && c.RedisURL == "" {
		// Meter keys live only in memory with the embedded Redis; a fixed
		// development key protects nothing but keeps the code path real.
		sum := sha256.Sum256([]byte("ppp development master key"))
		c.MasterKey = sum[:]
	} else {
		bad("PPP_MASTER_KEY must be set when state is kept in Redis (it encrypts meter keys at rest)")
	}
	var err error
	if c.SMSRate, err = strconv.Atoi(env("PPP_SMS_RATE", map[string]string{"sim": "10", "twilio": "1"}[c.Carrier])); err != nil || c.SMSRate < 1 {
		bad("PPP_SMS_RATE must be a positive number of messages per second")
	}
	if c.SimVoiceTick, err = time.ParseDuration(env("PPP_SIM_VOICE_TICK", "250ms")); err != nil || c.SimVoiceTick <= 0 {
		bad("PPP_SIM_VOICE_TICK must be a positive duration such as 250ms")
	}
	if c.Workers, err = strconv.Atoi(env("PPP_WORKERS", "10")); err != nil || c.Workers < 1 {
		bad("PPP_WORKERS must be a positive number")
	}
	if len(problems) > 0 {
		return c, errors.New("configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
}

// shutdownGrace bounds a graceful stop.
const shutdownGrace = 10 * time.Second
