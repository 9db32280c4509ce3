// The server's configuration is declared, not hand-parsed: each Config field
// names its environment variable and default in struct tags read by
// github.com/caarlos0/env, a maintained library that converts numbers,
// booleans, durations and keys, applies the defaults and collects every value
// it cannot read into one AggregateError, so a bad start-up lists all the
// problems at once instead of the first. What the library cannot know — the
// rules between variables, what the real carrier needs, the shape of
// addresses, URLs, phone numbers and tokens — is checked in one place,
// Config.validate, which reports every problem at once too. Secrets are never
// quoted in a message.

package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/nyaruka/phonenumbers"
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/carrier"
)

// Config is the whole server configuration, read from the environment once
// at start-up. Each field names its variable in an `env` tag and its plain
// default in `envDefault`; defaults that depend on other variables (the
// carrier, the sending number, the listen address) are set by
// resolveDefaults. A `secret` tag keeps a value out of every message; an
// `accept` tag says what a variable accepts when its value cannot be read at
// all. The fields follow the table in README.md, which a test keeps in step.
type Config struct {
	// HTTPAddr is where the server listens.
	HTTPAddr string `env:"PPP_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// PublicURL is the externally visible base URL, without a trailing
	// slash; default "http://" + HTTPAddr.
	PublicURL string `env:"PPP_PUBLIC_URL"`
	// RedisURL is the Redis to keep state in; empty = embedded in-memory Redis.
	RedisURL string `env:"REDIS_URL" secret:"true"`
	// Carrier is sim or twilio; default twilio when both Twilio credentials
	// are set, else sim.
	Carrier string `env:"PPP_CARRIER"`
	// AccountSID is the Twilio account; a development value with sim.
	AccountSID string `env:"TWILIO_ACCOUNT_SID"`
	// AuthToken signs and verifies webhooks; a development value with sim.
	AuthToken string `env:"TWILIO_AUTH_TOKEN" secret:"true"`
	// SMSFrom is the platform's sending number (E.164).
	SMSFrom string `env:"PPP_SMS_FROM" envDefault:"+85258001000"`
	// SMSRate is messages per second per sending number; default 1 with
	// twilio, 10 with sim.
	SMSRate int `env:"PPP_SMS_RATE" accept:"a positive whole number of messages per second"`
	// SettingsFile is the operator settings YAML; empty = the shipped default.
	SettingsFile string `env:"PPP_SETTINGS_FILE"`
	// AdminToken is the admin API's bearer token; a development value with sim.
	AdminToken string `env:"PPP_ADMIN_TOKEN" secret:"true"`
	// MasterKey encrypts meter keys at rest (32 bytes, base64 in the
	// environment); a development key with sim on the embedded Redis.
	MasterKey []byte `env:"PPP_MASTER_KEY" secret:"true" accept:"32 bytes in base64 (openssl rand -base64 32)"`
	// PaymentURL is the payment gateway's base URL; the simulated gateway with sim.
	PaymentURL string `env:"PPP_PAYMENT_URL"`
	// PaymentKey is the payment gateway's API key; a development key with sim.
	PaymentKey string `env:"PPP_PAYMENT_KEY" secret:"true"`
	// SimAddr is where the simulated world listens (sim only).
	SimAddr string `env:"PPP_SIM_ADDR" envDefault:"127.0.0.1:8081"`
	// WakeCallerID is the number meters are woken from; default SMSFrom.
	WakeCallerID string `env:"PPP_WAKE_CALLER_ID"`

	// Push providers; without them (outside the simulator) push is off.

	// FCMProject is the Firebase project of FCM HTTP v1.
	FCMProject string `env:"FCM_PROJECT_ID"`
	// FCMCredentials is the service account file of FCM HTTP v1.
	FCMCredentials string `env:"GOOGLE_APPLICATION_CREDENTIALS"`
	// APNsKeyFile is the APNs token key (.p8).
	APNsKeyFile string `env:"APNS_KEY_FILE"`
	// APNsKeyID is the id of APNsKeyFile.
	APNsKeyID string `env:"APNS_KEY_ID"`
	// APNsTeamID is the Apple developer team.
	APNsTeamID string `env:"APNS_TEAM_ID"`
	// APNsTopic is the app's bundle id.
	APNsTopic string `env:"APNS_TOPIC"`
	// APNsHost is the APNs endpoint.
	APNsHost string `env:"APNS_HOST" envDefault:"https://api.push.apple.com"`

	// Region is the region of phone numbers written without a country code.
	Region string `env:"PPP_DEFAULT_REGION" envDefault:"HK"`
	// Workers is the asynq worker concurrency.
	Workers int `env:"PPP_WORKERS" envDefault:"10" accept:"a positive whole number of workers"`
	// LogLevel is debug, info, warn or error (read in any case).
	LogLevel string `env:"PPP_LOG_LEVEL" envDefault:"info"`
	// LogJSON selects JSON logs instead of text.
	LogJSON bool `env:"PPP_LOG_JSON" accept:"one of 1, true, 0, false or empty"`

	// DevCredentials is set when development secrets were generated because
	// none were given; they are printed at start.
	DevCredentials bool `env:"-"`

	// given holds the variables the environment set to a non-empty value:
	// the real carrier needs some of them explicitly, whatever their defaults.
	given map[string]bool
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

// LoadConfig reads the environment through getenv, sets the defaults and
// validates every variable. All problems are reported at once, joined with
// errors.Join: values that cannot be read at all, then values that were
// read but are not accepted.
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	given, malformed := parseEnv(getenv, &c)
	c.given = given
	c.resolveDefaults()
	problems := malformed
	for _, err := range unjoin(c.validate()) {
		// A value that could not be read is already reported; its field's
		// zero value says nothing more.
		if ve, ok := errors.AsType[*VarError](err); !ok || !reported(malformed, ve.Var) {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration:\n%w", errors.Join(problems...))
	}
	return c, nil
}

// parseEnv fills the struct dst points to from the variables its `env` tags
// name, as getenv returns them with surrounding spaces trimmed (an empty
// value counts as unset). It returns the variables that were set and one
// *VarError for each value that could not be read; env collects every such
// error in one AggregateError instead of stopping at the first.
func parseEnv(getenv func(string) string, dst any) (given map[string]bool, problems []error) {
	vars := envVars(reflect.TypeOf(dst).Elem())
	environ := make(map[string]string, len(vars))
	for _, v := range vars {
		if value := strings.TrimSpace(getenv(v.Name)); value != "" {
			environ[v.Name] = value
		}
	}
	given = make(map[string]bool, len(environ))
	for k := range environ {
		given[k] = true
	}
	err := env.ParseWithOptions(dst, env.Options{
		Environment: environ,
		FuncMap:     map[reflect.Type]env.ParserFunc{reflect.TypeFor[[]byte](): parseKey},
	})
	for _, err := range unjoin(err) {
		pe, ok := errors.AsType[env.ParseError](err)
		i := slices.IndexFunc(vars, func(v envVar) bool { return ok && v.Field == pe.Name })
		if i < 0 {
			problems = append(problems, err) // not a value's fault: a tag the library refuses
			continue
		}
		v := vars[i]
		problems = append(problems, v.problem(environ[v.Name], v.Accept))
	}
	return given, problems
}

// parseKey reads a 32-byte key written in base64.
func parseKey(s string) (any, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err == nil && len(key) != 32 {
		err = fmt.Errorf("%d bytes, not 32", len(key))
	}
	return key, err
}

// resolveDefaults sets the defaults that depend on other variables or on the
// carrier, and brings case-insensitive values to lower case.
func (c *Config) resolveDefaults() {
	c.PublicURL = strings.TrimRight(cmp.Or(c.PublicURL, "http://"+c.HTTPAddr), "/")
	c.WakeCallerID = cmp.Or(c.WakeCallerID, c.SMSFrom)
	c.LogLevel = strings.ToLower(c.LogLevel)
	c.Carrier = strings.ToLower(c.Carrier)
	if c.Carrier == "" {
		c.Carrier = "sim"
		if c.AccountSID != "" && c.AuthToken != "" {
			c.Carrier = "twilio"
		}
	}
	if !c.given["PPP_SMS_RATE"] {
		c.SMSRate = 1
		if c.Carrier == "sim" {
			c.SMSRate = 10
		}
	}
	if c.Carrier != "sim" {
		return
	}
	if c.AccountSID == "" || c.AuthToken == "" {
		c.AccountSID, c.AuthToken, c.DevCredentials = devAccountSID, devAuthToken, true
	}
	c.PaymentURL = cmp.Or(c.PaymentURL, "http://"+c.SimAddr+"/pay")
	c.PaymentKey = cmp.Or(c.PaymentKey, devPaymentKey)
	if c.AdminToken == "" {
		c.AdminToken, c.DevCredentials = devAdminToken, true
	}
	if !c.given["PPP_MASTER_KEY"] && c.RedisURL == "" {
		// Meter keys live only in memory with the embedded Redis; a fixed
		// development key protects nothing but keeps the code path real.
		sum := sha256.Sum256([]byte("ppp development master key"))
		c.MasterKey = sum[:]
	}
}

// validate checks every value and every rule between values, and reports
// all problems at once, joined with errors.Join; secrets are never quoted.
func (c *Config) validate() error {
	var problems []error
	bad := func(name, value, accept string) {
		problems = append(problems, configVar(name).problem(value, accept))
	}
	switch c.Carrier {
	case "sim":
		if !c.given["PPP_MASTER_KEY"] && c.RedisURL != "" {
			bad("PPP_MASTER_KEY", "", "set when state is kept in Redis (it encrypts meter keys at rest)")
		}
	case "twilio":
		// Everything the real carrier needs and that has only a development
		// default, reported together so one restart is enough.
		var missing []string
		for _, k := range twilioNeeds {
			if !c.given[k] {
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
			bad("TWILIO_AUTH_TOKEN", c.AuthToken, "a Twilio auth token (32 hexadecimal digits)")
		}
		if c.AdminToken != "" && (len(c.AdminToken) < minAdminToken || c.AdminToken == devAdminToken) {
			bad("PPP_ADMIN_TOKEN", c.AdminToken, fmt.Sprintf("at least %d characters and not the development token outside the simulator", minAdminToken))
		}
		if c.PaymentKey == devPaymentKey {
			bad("PPP_PAYMENT_KEY", c.PaymentKey, "a real payment gateway key with PPP_CARRIER=twilio (the simulated gateway's key works only with PPP_CARRIER=sim)")
		}
		if c.given["PPP_PUBLIC_URL"] {
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
			bad("REDIS_URL", c.RedisURL, "a Redis URL such as redis://[user:pass@]host:6379/db, rediss://… or unix://…")
		}
	}
	for _, v := range []struct{ name, value string }{{"PPP_SMS_FROM", c.SMSFrom}, {"PPP_WAKE_CALLER_ID", c.WakeCallerID}} {
		if !e164Re.MatchString(v.value) {
			bad(v.name, v.value, "an E.164 phone number such as +85258001000")
		}
	}
	if !phonenumbers.GetSupportedRegions()[c.Region] {
		bad("PPP_DEFAULT_REGION", c.Region, "an upper-case ISO 3166 region code known to the phone number library, such as HK or GB")
	}
	if !slices.Contains(logLevels, c.LogLevel) {
		bad("PPP_LOG_LEVEL", c.LogLevel, "one of "+strings.Join(logLevels, ", "))
	}
	for _, v := range []struct {
		name  string
		value int
	}{{"PPP_SMS_RATE", c.SMSRate}, {"PPP_WORKERS", c.Workers}} {
		if v.value < 1 {
			bad(v.name, strconv.Itoa(v.value), configVar(v.name).Accept)
		}
	}
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
	return errors.Join(problems...)
}

// twilioNeeds are the variables PPP_CARRIER=twilio needs set explicitly, in
// the order of the README table: each has only a development default.
var twilioNeeds = []string{"PPP_PUBLIC_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
	"PPP_SMS_FROM", "PPP_ADMIN_TOKEN", "PPP_MASTER_KEY", "PPP_PAYMENT_URL", "PPP_PAYMENT_KEY"}

// envVar is one environment variable declared by a field's tags.
type envVar struct {
	Field  string // the struct field
	Name   string // the variable, from the `env` tag
	Secret bool   // `secret:"true"`: the value is never quoted in a message
	Accept string // what it accepts: the `accept` tag or a description of the field's type
}

// problem reports value as not accepted; a secret's value is left out.
func (v envVar) problem(value, accept string) *VarError {
	if v.Secret {
		value = ""
	}
	return &VarError{Var: v.Name, Value: value, Accept: accept}
}

// envVars lists the variables the fields of the struct type t declare.
func envVars(t reflect.Type) []envVar {
	var vars []envVar
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if name == "" || name == "-" {
			continue
		}
		vars = append(vars, envVar{Field: f.Name, Name: name, Secret: f.Tag.Get("secret") == "true",
			Accept: cmp.Or(f.Tag.Get("accept"), describeType(f.Type))})
	}
	return vars
}

// describeType says what a value of type t looks like in the environment.
func describeType(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 30s, 5m or 1h30m"
	case t == reflect.TypeFor[[]byte]():
		return "32 bytes in base64"
	case t.Kind() == reflect.Bool:
		return "one of 1, true, 0, false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return "a whole number"
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return "a whole number, 0 or more"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	}
	return "a value of type " + t.String()
}

// configVars are the variables of Config, in the order of its fields.
var configVars = envVars(reflect.TypeFor[Config]())

// configVar returns the Config variable called name.
func configVar(name string) envVar {
	if i := slices.IndexFunc(configVars, func(v envVar) bool { return v.Name == name }); i >= 0 {
		return configVars[i]
	}
	panic("config: no variable " + name)
}

// unjoin returns the errors err joins (errors.Join, env.AggregateError), or err itself.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// reported reports whether problems holds a *VarError about name.
func reported(problems []error, name string) bool {
	return slices.ContainsFunc(problems, func(err error) bool {
		ve, ok := errors.AsType[*VarError](err)
		return ok && ve.Var == name
	})
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
