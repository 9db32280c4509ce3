package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/carrier"
)

// Config is the whole server configuration, read from the environment once
// at start-up (see the table in README.md).
type Config struct {
	HTTPAddr     string // PPP_HTTP_ADDR
	PublicURL    string // PPP_PUBLIC_URL
	RedisURL     string // REDIS_URL; empty = embedded in-memory Redis
	Carrier      string // PPP_CARRIER: sim or twilio
	AccountSID   string // TWILIO_ACCOUNT_SID
	AuthToken    string // TWILIO_AUTH_TOKEN
	SMSFrom      string // PPP_SMS_FROM
	WakeCallerID string // PPP_WAKE_CALLER_ID
	SMSRate      int    // PPP_SMS_RATE
	SettingsFile string // PPP_SETTINGS_FILE
	SimAddr      string // PPP_SIM_ADDR
	AdminToken   string // PPP_ADMIN_TOKEN
	MasterKey    []byte // PPP_MASTER_KEY (base64, 32 bytes)
	PaymentURL   string // PPP_PAYMENT_URL
	PaymentKey   string // PPP_PAYMENT_KEY
	Region       string // PPP_DEFAULT_REGION
	Workers      int    // PPP_WORKERS
	LogLevel     string // PPP_LOG_LEVEL
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

// Development defaults used only with the simulated carrier (shared with
// the simulated world, which defaults to the same).
const (
	devAccountSID = carrier.DevAccountSID
	devAuthToken  = carrier.DevAuthToken
	devAdminToken = carrier.DevAdminToken
	devPaymentKey = carrier.DevPaymentKey
)

// VarError reports an environment variable whose value is not accepted.
type VarError struct {
	Var    string // the variable's name
	Value  string // the rejected value, empty when a secret or absent
	Accept string // what the variable accepts
}

func (e *VarError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s must be %s", e.Var, e.Accept)
	}
	return fmt.Sprintf("%s must be %s, not %q", e.Var, e.Accept, e.Value)
}

// MissingError lists every variable a carrier needs that was not set.
type MissingError struct {
	Carrier string   // the PPP_CARRIER value that needs them
	Vars    []string // the unset variables, in the order of the README table
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("PPP_CARRIER=%s needs %s (real messages and calls never run on the embedded in-memory state or development values)",
		e.Carrier, strings.Join(e.Vars, ", "))
}

var (
	e164Re       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	accountSIDRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	authTokenRe  = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	appleIDRe    = regexp.MustCompile(`^[A-Z0-9]{10}$`)
	fcmProjectRe = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
)

// logLevels are the accepted PPP_LOG_LEVEL values.
var logLevels = []string{"debug", "info", "warn", "error"}

// minAdminToken is the shortest PPP_ADMIN_TOKEN accepted outside the simulator.
const minAdminToken = 16

// LoadConfig reads the environment through getenv and validates every
// variable; all problems are reported at once, joined with errors.Join.
func LoadConfig(getenv func(string) string) (Config, error) {
	set := func(k string) bool { return strings.TrimSpace(getenv(k)) != "" }
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
		Region: env("PPP_DEFAULT_REGION", "HK"), LogLevel: strings.ToLower(env("PPP_LOG_LEVEL", "info")),
		FCMProject: env("FCM_PROJECT_ID", ""), FCMCredentials: env("GOOGLE_APPLICATION_CREDENTIALS", ""),
		APNsKeyFile: env("APNS_KEY_FILE", ""), APNsKeyID: env("APNS_KEY_ID", ""), APNsTeamID: env("APNS_TEAM_ID", ""),
		APNsTopic: env("APNS_TOPIC", ""), APNsHost: env("APNS_HOST", "https://api.push.apple.com"),
	}
	c.PublicURL = strings.TrimRight(env("PPP_PUBLIC_URL", "http://"+c.HTTPAddr), "/")
	var problems []error
	bad := func(name, value, accept string) {
		problems = append(problems, &VarError{Var: name, Value: value, Accept: accept})
	}
	defCarrier := "sim"
	if c.AccountSID != "" && c.AuthToken != "" {
		defCarrier = "twilio"
	}
	c.Carrier = strings.ToLower(env("PPP_CARRIER", defCarrier))
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
		// Everything the real carrier needs and that has only a development
		// default, reported together so one restart is enough.
		var missing []string
		for _, k := range []string{"PPP_PUBLIC_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
			"PPP_SMS_FROM", "PPP_ADMIN_TOKEN", "PPP_MASTER_KEY", "PPP_PAYMENT_URL", "PPP_PAYMENT_KEY"} {
			if !set(k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, &MissingError{Carrier: c.Carrier, Vars: missing})
		}
		if c.AccountSID != "" && !accountSIDRe.MatchString(c.AccountSID) {
			bad("TWILIO_ACCOUNT_SID", c.AccountSID, "a Twilio account SID (AC followed by 32 hexadecimal digits)")
		}
		if c.AuthToken != "" && !authTokenRe.MatchString(c.AuthToken) {
			bad("TWILIO_AUTH_TOKEN", "", "a Twilio auth token (32 hexadecimal digits)")
		}
		if c.AdminToken != "" && (len(c.AdminToken) < minAdminToken || c.AdminToken == devAdminToken) {
			bad("PPP_ADMIN_TOKEN", "", fmt.Sprintf("at least %d characters and not the development token outside the simulator", minAdminToken))
		}
		if c.PaymentKey == devPaymentKey {
			bad("PPP_PAYMENT_KEY", c.PaymentKey, "a real payment gateway key with PPP_CARRIER=twilio (the simulated gateway runs only with PPP_CARRIER=sim)")
		}
		if set("PPP_PUBLIC_URL") {
			if u, err := url.Parse(c.PublicURL); err == nil && isLoopback(u.Hostname()) {
				bad("PPP_PUBLIC_URL", c.PublicURL, "an address Twilio can reach with PPP_CARRIER=twilio, not a loopback host")
			}
		}
	default:
		bad("PPP_CARRIER", c.Carrier, "one of sim, twilio")
	}
	checkAddr := func(name, v string) {
		host, port, err := net.SplitHostPort(v)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 || strings.ContainsAny(host, " /") {
			bad(name, v, "a listen address host:port such as 127.0.0.1:8080 or :8080")
		}
	}
	checkAddr("PPP_HTTP_ADDR", c.HTTPAddr)
	checkAddr("PPP_SIM_ADDR", c.SimAddr)
	checkHTTPURL := func(name, v string, httpsOnly bool) {
		u, err := url.Parse(v)
		ok := err == nil && u.Host != "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil &&
			(u.Scheme == "https" || (u.Scheme == "http" && !httpsOnly))
		switch {
		case ok:
		case httpsOnly:
			bad(name, v, "an absolute https URL without query or fragment")
		default:
			bad(name, v, "an absolute http(s) URL without query or fragment")
		}
	}
	checkHTTPURL("PPP_PUBLIC_URL", c.PublicURL, false)
	if c.PaymentURL != "" {
		checkHTTPURL("PPP_PAYMENT_URL", c.PaymentURL, false)
	}
	checkHTTPURL("APNS_HOST", c.APNsHost, true)
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			bad("REDIS_URL", "", "a Redis URL such as redis://[user:pass@]host:6379/db, rediss://… or unix://…")
		}
	}
	if !e164Re.MatchString(c.SMSFrom) {
		bad("PPP_SMS_FROM", c.SMSFrom, "an E.164 phone number such as +85258001000")
	}
	if !e164Re.MatchString(c.WakeCallerID) {
		bad("PPP_WAKE_CALLER_ID", c.WakeCallerID, "an E.164 phone number such as +85258001000")
	}
	if !phonenumbers.GetSupportedRegions()[c.Region] {
		bad("PPP_DEFAULT_REGION", c.Region, "an upper-case ISO 3166 region code known to the phone number library, such as HK or GB")
	}
	if !slices.Contains(logLevels, c.LogLevel) {
		bad("PPP_LOG_LEVEL", c.LogLevel, "one of "+strings.Join(logLevels, ", "))
	}
	switch v := strings.ToLower(env("PPP_LOG_JSON", "")); v {
	case "1", "true":
		c.LogJSON = true
	case "", "0", "false":
	default:
		bad("PPP_LOG_JSON", v, "one of 1, true, 0, false or empty")
	}
	if k := strings.TrimSpace(getenv("PPP_MASTER_KEY")); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			bad("PPP_MASTER_KEY", "", "32 bytes in base64 (openssl rand -base64 32)")
		}
		c.MasterKey = key
	} else if c.Carrier == "sim" && c.RedisURL == "" {
		// Meter keys live only in memory with the embedded Redis; a fixed
		// development key protects nothing but keeps the code path real.
		sum := sha256.Sum256([]byte("ppp development master key"))
		c.MasterKey = sum[:]
	} else if c.Carrier == "sim" {
		bad("PPP_MASTER_KEY", "", "set when state is kept in Redis (it encrypts meter keys at rest)")
	}
	positive := func(name, def, accept string) int {
		v := env(name, def)
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad(name, v, accept)
		}
		return n
	}
	defRate := "1"
	if c.Carrier == "sim" {
		defRate = "10"
	}
	c.SMSRate = positive("PPP_SMS_RATE", defRate, "a positive whole number of messages per second")
	c.Workers = positive("PPP_WORKERS", "10", "a positive whole number of workers")
	if c.FCMProject != "" && !fcmProjectRe.MatchString(c.FCMProject) {
		bad("FCM_PROJECT_ID", c.FCMProject, "a Firebase project id (6 to 30 lower-case letters, digits and hyphens)")
	}
	if c.FCMCredentials != "" && c.FCMProject == "" {
		bad("FCM_PROJECT_ID", "", "set when GOOGLE_APPLICATION_CREDENTIALS is set")
	}
	if c.APNsKeyFile != "" {
		for _, v := range []struct{ name, value string }{{"APNS_KEY_ID", c.APNsKeyID}, {"APNS_TEAM_ID", c.APNsTeamID}} {
			if !appleIDRe.MatchString(v.value) {
				bad(v.name, v.value, "a 10-character Apple id of upper-case letters and digits when APNS_KEY_FILE is set")
			}
		}
		if c.APNsTopic == "" {
			bad("APNS_TOPIC", "", "the app's bundle id when APNS_KEY_FILE is set")
		}
	} else if c.APNsKeyID != "" || c.APNsTeamID != "" {
		bad("APNS_KEY_FILE", "", "set (the .p8 key) when APNS_KEY_ID or APNS_TEAM_ID is set")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration:\n%w", errors.Join(problems...))
	}
	return c, nil
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// shutdownGrace bounds a graceful stop.
const shutdownGrace = 10 * time.Second
