package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
)

const testMasterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// realEnv is a complete configuration for the real carrier.
func realEnv() map[string]string {
	return map[string]string{
		"PPP_CARRIER":        "twilio",
		"REDIS_URL":          "redis://redis.internal:6379/2",
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":  "0123456789abcdef0123456789abcdef",
		"PPP_PUBLIC_URL":     "https://renew.example.com/",
		"PPP_SMS_FROM":       "+85258001000",
		"PPP_ADMIN_TOKEN":    "an-admin-token-of-some-length",
		"PPP_MASTER_KEY":     testMasterKey,
		"PPP_PAYMENT_URL":    "https://pay.example.com/v1",
		"PPP_PAYMENT_KEY":    "sk_live_0123",
	}
}

// with returns base with the given variables replaced; an empty value unsets one.
func with(base map[string]string, kv ...string) map[string]string {
	vars := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(vars, kv[i])
		} else {
			vars[kv[i]] = kv[i+1]
		}
	}
	return vars
}

// flagged returns the variables named by the errors joined in err, sorted.
func flagged(err error) []string {
	var names []string
	var walk func(error)
	walk = func(err error) {
		var ve *VarError
		var me *MissingError
		switch {
		case err == nil:
		case errors.As(err, &ve) && ve == err:
			names = append(names, ve.Var)
		case errors.As(err, &me) && me == err:
			names = append(names, me.Vars...)
		default:
			switch u := err.(type) {
			case interface{ Unwrap() []error }:
				for _, e := range u.Unwrap() {
					walk(e)
				}
			case interface{ Unwrap() error }:
				walk(u.Unwrap())
			default:
				names = append(names, "?"+err.Error())
			}
		}
	}
	walk(err)
	slices.Sort(names)
	return names
}

func TestLoadConfigRejects(t *testing.T) {
	tests := []struct {
		name     string
		givenEnv map[string]string
		wantVars []string // every variable reported, sorted
		wantText []string // parts of the message
	}{
		{
			name:     "twilio without anything else refuses every missing variable at once",
			givenEnv: map[string]string{"PPP_CARRIER": "twilio"},
			wantVars: []string{"PPP_ADMIN_TOKEN", "PPP_MASTER_KEY", "PPP_PAYMENT_KEY", "PPP_PAYMENT_URL", "PPP_PUBLIC_URL",
				"PPP_SMS_FROM", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"},
			wantText: []string{"PPP_CARRIER=twilio needs PPP_PUBLIC_URL, REDIS_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, PPP_SMS_FROM"},
		},
		{
			name:     "twilio never runs on the embedded in-memory state",
			givenEnv: with(realEnv(), "REDIS_URL", ""),
			wantVars: []string{"REDIS_URL"},
			wantText: []string{"needs REDIS_URL", "in-memory"},
		},
		{
			name:     "twilio chosen by the credentials alone still needs real state",
			givenEnv: with(realEnv(), "PPP_CARRIER", "", "REDIS_URL", "", "PPP_PUBLIC_URL", ""),
			wantVars: []string{"PPP_PUBLIC_URL", "REDIS_URL"},
		},
		{
			name:     "twilio needs an explicit sending number",
			givenEnv: with(realEnv(), "PPP_SMS_FROM", ""),
			wantVars: []string{"PPP_SMS_FROM"},
		},
		{
			name:     "unknown log level",
			givenEnv: map[string]string{"PPP_LOG_LEVEL": "loud"},
			wantVars: []string{"PPP_LOG_LEVEL"},
			wantText: []string{`PPP_LOG_LEVEL must be one of debug, info, warn, error, not "loud"`},
		},
		{
			name:     "sending number not E.164",
			givenEnv: map[string]string{"PPP_SMS_FROM": "123"},
			wantVars: []string{"PPP_SMS_FROM", "PPP_WAKE_CALLER_ID"},
			wantText: []string{`PPP_SMS_FROM must be an E.164 phone number such as +85258001000, not "123"`},
		},
		{
			name:     "wake caller id not E.164",
			givenEnv: map[string]string{"PPP_WAKE_CALLER_ID": "85258001000"},
			wantVars: []string{"PPP_WAKE_CALLER_ID"},
		},
		{
			name:     "unknown carrier",
			givenEnv: map[string]string{"PPP_CARRIER": "nexmo"},
			wantVars: []string{"PPP_CARRIER"},
			wantText: []string{"one of sim, twilio"},
		},
		{
			name: "numbers and durations",
			givenEnv: map[string]string{"PPP_SMS_RATE": "0", "PPP_WORKERS": "ten",
				"PPP_HTTP_ADDR": "localhost", "PPP_SIM_ADDR": "127.0.0.1:99999"},
			wantVars: []string{"PPP_HTTP_ADDR", "PPP_SIM_ADDR", "PPP_SMS_RATE", "PPP_WORKERS"},
		},
		{
			name: "URLs",
			givenEnv: map[string]string{"PPP_PUBLIC_URL": "renew.example.com", "PPP_PAYMENT_URL": "ftp://pay.example.com",
				"APNS_HOST": "http://api.push.apple.com", "REDIS_URL": "http://redis:6379", "PPP_MASTER_KEY": testMasterKey},
			wantVars: []string{"APNS_HOST", "PPP_PAYMENT_URL", "PPP_PUBLIC_URL", "REDIS_URL"},
		},
		{
			name:     "region and log format",
			givenEnv: map[string]string{"PPP_DEFAULT_REGION": "hk", "PPP_LOG_JSON": "yes"},
			wantVars: []string{"PPP_DEFAULT_REGION", "PPP_LOG_JSON"},
		},
		{
			name:     "master key of the wrong size",
			givenEnv: map[string]string{"PPP_MASTER_KEY": "c2hvcnQ="},
			wantVars: []string{"PPP_MASTER_KEY"},
		},
		{
			name:     "sim with Redis needs a master key",
			givenEnv: map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"},
			wantVars: []string{"PPP_MASTER_KEY"},
		},
		{
			name: "twilio credentials, admin token and payment key in the wrong shape",
			givenEnv: with(realEnv(), "TWILIO_ACCOUNT_SID", "SK0123", "TWILIO_AUTH_TOKEN", "secret",
				"PPP_ADMIN_TOKEN", "dev-admin-token", "PPP_PAYMENT_KEY", "sk_sim_local"),
			wantVars: []string{"PPP_ADMIN_TOKEN", "PPP_PAYMENT_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"},
		},
		{
			name:     "twilio cannot call back a loopback public URL",
			givenEnv: with(realEnv(), "PPP_PUBLIC_URL", "http://127.0.0.1:8080"),
			wantVars: []string{"PPP_PUBLIC_URL"},
			wantText: []string{"loopback"},
		},
		{
			name:     "push providers half configured",
			givenEnv: map[string]string{"APNS_KEY_FILE": "/etc/ppp/apns.p8", "APNS_KEY_ID": "abc", "GOOGLE_APPLICATION_CREDENTIALS": "/etc/ppp/fcm.json"},
			wantVars: []string{"APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC", "FCM_PROJECT_ID"},
		},
		{
			name:     "values that cannot be read name their variable and say what is accepted",
			givenEnv: map[string]string{"PPP_WORKERS": "ten", "PPP_SMS_RATE": "1.5", "PPP_LOG_JSON": "on"},
			wantVars: []string{"PPP_LOG_JSON", "PPP_SMS_RATE", "PPP_WORKERS"}, // each once
			wantText: []string{`PPP_WORKERS must be a positive whole number of workers, not "ten"`,
				`PPP_SMS_RATE must be a positive whole number of messages per second, not "1.5"`,
				`PPP_LOG_JSON must be one of 1, true, 0, false or empty, not "on"`},
		},
		{
			name:     "a master key that is not base64",
			givenEnv: map[string]string{"PPP_MASTER_KEY": "not base64!"},
			wantVars: []string{"PPP_MASTER_KEY"},
			wantText: []string{"PPP_MASTER_KEY must be 32 bytes in base64 (openssl rand -base64 32)"},
		},
		{
			name: "unreadable values, invalid values and missing variables are reported together",
			givenEnv: map[string]string{"PPP_CARRIER": "twilio", "PPP_WORKERS": "many", "PPP_MASTER_KEY": "c2hvcnQ=",
				"PPP_LOG_LEVEL": "loud", "PPP_SIM_ADDR": "8081", "APNS_KEY_ID": "ABC123DEFG"},
			wantVars: []string{"APNS_KEY_FILE", "PPP_ADMIN_TOKEN", "PPP_LOG_LEVEL", "PPP_MASTER_KEY", "PPP_PAYMENT_KEY", "PPP_PAYMENT_URL",
				"PPP_PUBLIC_URL", "PPP_SIM_ADDR", "PPP_SMS_FROM", "PPP_WORKERS", "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"},
			wantText: []string{`PPP_WORKERS must be a positive whole number of workers, not "many"`,
				"PPP_CARRIER=twilio needs PPP_PUBLIC_URL, REDIS_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, PPP_SMS_FROM, PPP_ADMIN_TOKEN, PPP_PAYMENT_URL, PPP_PAYMENT_KEY ("},
		},
		{
			name:     "every problem is reported, not only the first",
			givenEnv: with(realEnv(), "PPP_LOG_LEVEL", "loud", "PPP_SMS_FROM", "123", "REDIS_URL", "", "PPP_WORKERS", "0"),
			wantVars: []string{"PPP_LOG_LEVEL", "PPP_SMS_FROM", "PPP_WAKE_CALLER_ID", "PPP_WORKERS", "REDIS_URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(func(k string) string { return tt.givenEnv[k] })
			if err == nil {
				t.Fatalf("LoadConfig accepted %v", tt.givenEnv)
			}
			if got := flagged(err); !slices.Equal(got, tt.wantVars) {
				t.Errorf("reported %v, want %v\n%v", got, tt.wantVars, err)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadConfigAccepts(t *testing.T) {
	tests := []struct {
		name     string
		givenEnv map[string]string
		expect   func(t *testing.T, c Config)
	}{
		{
			name:     "empty environment runs the simulator on development values",
			givenEnv: map[string]string{},
			expect: func(t *testing.T, c Config) {
				if c.Carrier != "sim" || !c.DevCredentials || c.RedisURL != "" || len(c.MasterKey) != 32 || c.SMSRate != 10 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "end-to-end harness: simulator on a real Redis",
			givenEnv: map[string]string{"PPP_HTTP_ADDR": "127.0.0.1:0", "PPP_SIM_ADDR": "127.0.0.1:0", "PPP_CARRIER": "sim",
				"REDIS_URL": "redis://127.0.0.1:6379/5", "PPP_MASTER_KEY": testMasterKey, "PPP_SMS_RATE": "100"},
			expect: func(t *testing.T, c Config) {
				if c.SMSRate != 100 || c.RedisURL == "" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name:     "complete real configuration",
			givenEnv: realEnv(),
			expect: func(t *testing.T, c Config) {
				if c.Carrier != "twilio" || c.DevCredentials || c.PublicURL != "https://renew.example.com" || c.SMSRate != 1 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name:     "real configuration with a different caller id, log settings and tuning",
			givenEnv: with(realEnv(), "PPP_WAKE_CALLER_ID", "+442071234567", "PPP_LOG_LEVEL", "DEBUG", "PPP_LOG_JSON", "1", "PPP_WORKERS", " 4 ", "PPP_DEFAULT_REGION", "GB"),
			expect: func(t *testing.T, c Config) {
				if c.WakeCallerID != "+442071234567" || c.LogLevel != "debug" || !c.LogJSON || c.Workers != 4 || c.Region != "GB" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "push providers fully configured",
			givenEnv: with(realEnv(), "FCM_PROJECT_ID", "ppp-renew-prod", "GOOGLE_APPLICATION_CREDENTIALS", "/etc/ppp/fcm.json",
				"APNS_KEY_FILE", "/etc/ppp/apns.p8", "APNS_KEY_ID", "ABC123DEFG", "APNS_TEAM_ID", "TEAM123456", "APNS_TOPIC", "example.ppp.renew"),
			expect: func(t *testing.T, c Config) {
				if c.APNsKeyID != "ABC123DEFG" || c.FCMProject != "ppp-renew-prod" {
					t.Errorf("got %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(func(k string) string { return tt.givenEnv[k] })
			if err != nil {
				t.Fatal(err)
			}
			tt.expect(t, c)
		})
	}
}

func TestLoadConfigAppliesDefaults(t *testing.T) {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// Every envDefault of the struct, read back from its field.
	params, err := env.GetFieldParams(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	value := reflect.ValueOf(c)
	defaults := 0
	for _, p := range params {
		if !p.HasDefaultValue {
			continue
		}
		defaults++
		v := configVar(p.Key)
		if got := fmt.Sprint(value.FieldByName(v.Field).Interface()); got != p.DefaultValue {
			t.Errorf("%s (%s) = %q, want its default %q", v.Field, p.Key, got, p.DefaultValue)
		}
	}
	if defaults < 7 {
		t.Errorf("only %d variables declare a default", defaults)
	}
	// The defaults that depend on other variables or on the carrier.
	for _, tt := range []struct{ name, got, want string }{
		{"PublicURL", c.PublicURL, "http://127.0.0.1:8080"},
		{"WakeCallerID", c.WakeCallerID, "+85258001000"},
		{"Carrier", c.Carrier, "sim"},
		{"SMSRate", fmt.Sprint(c.SMSRate), "10"},
		{"AccountSID", c.AccountSID, devAccountSID},
		{"AuthToken", c.AuthToken, devAuthToken},
		{"AdminToken", c.AdminToken, devAdminToken},
		{"PaymentURL", c.PaymentURL, "http://127.0.0.1:8081/pay"},
		{"PaymentKey", c.PaymentKey, devPaymentKey},
		{"MasterKey length", fmt.Sprint(len(c.MasterKey)), "32"},
		{"DevCredentials", fmt.Sprint(c.DevCredentials), "true"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}

	// Derived defaults follow what they are derived from.
	c, err = LoadConfig(func(k string) string {
		return map[string]string{"PPP_HTTP_ADDR": "0.0.0.0:9000", "PPP_SMS_FROM": " +442071234567 ", "PPP_SIM_ADDR": "127.0.0.1:9001"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicURL != "http://0.0.0.0:9000" || c.SMSFrom != "+442071234567" || c.WakeCallerID != "+442071234567" ||
		c.PaymentURL != "http://127.0.0.1:9001/pay" {
		t.Errorf("derived defaults: public URL %q, sending number %q, wake caller id %q, payment URL %q",
			c.PublicURL, c.SMSFrom, c.WakeCallerID, c.PaymentURL)
	}
	// The real carrier has its own SMS pace and no development values.
	c, err = LoadConfig(func(k string) string { return realEnv()[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.SMSRate != 1 || c.DevCredentials || c.PaymentKey != realEnv()["PPP_PAYMENT_KEY"] || c.Workers != 10 || c.Region != "HK" {
		t.Errorf("real carrier defaults: %d messages/s, development credentials %v, payment key set %v, %d workers, region %q",
			c.SMSRate, c.DevCredentials, c.PaymentKey == realEnv()["PPP_PAYMENT_KEY"], c.Workers, c.Region)
	}
}

// TestConfigParseNamesTheVariable checks that each kind of value the
// library converts, when it cannot be read, is reported by its variable's
// name and what it accepts.
func TestConfigParseNamesTheVariable(t *testing.T) {
	var dst struct {
		Tick   time.Duration `env:"PPP_TEST_TICK"`
		Count  int           `env:"PPP_TEST_COUNT"`
		Size   uint          `env:"PPP_TEST_SIZE"`
		Ratio  float64       `env:"PPP_TEST_RATIO"`
		On     bool          `env:"PPP_TEST_ON" accept:"on or off"`
		Key    []byte        `env:"PPP_TEST_KEY" secret:"true"`
		Name   string        `env:"PPP_TEST_NAME" envDefault:"fine"`
		Period time.Duration `env:"PPP_TEST_PERIOD" envDefault:"1m"`
	}
	given, problems := parseEnv(func(k string) string {
		return map[string]string{"PPP_TEST_TICK": "soon", "PPP_TEST_COUNT": "3x", "PPP_TEST_SIZE": "-1", "PPP_TEST_RATIO": "half",
			"PPP_TEST_ON": "yes", "PPP_TEST_KEY": "hunter2=secret", "PPP_TEST_PERIOD": " 90s "}[k]
	}, &dst)
	want := []string{
		`PPP_TEST_TICK must be a duration such as 30s, 5m or 1h30m, not "soon"`,
		`PPP_TEST_COUNT must be a whole number, not "3x"`,
		`PPP_TEST_SIZE must be a whole number, 0 or more, not "-1"`,
		`PPP_TEST_RATIO must be a number, not "half"`,
		`PPP_TEST_ON must be on or off, not "yes"`,
		`PPP_TEST_KEY must be 32 bytes in base64`,
	}
	var got []string
	for _, err := range problems {
		if _, ok := errors.AsType[*VarError](err); !ok {
			t.Errorf("%v is a %T, not a *VarError", err, err)
		}
		got = append(got, err.Error())
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if dst.Name != "fine" || dst.Period != 90*time.Second {
		t.Errorf("the readable values: name %q, period %v", dst.Name, dst.Period)
	}
	if given["PPP_TEST_NAME"] || !given["PPP_TEST_PERIOD"] || !given["PPP_TEST_TICK"] {
		t.Errorf("given %v", given)
	}
}

// TestLoadConfigNeverQuotesSecrets gives every secret variable a value that
// is refused and checks the value is named nowhere in the message.
func TestLoadConfigNeverQuotesSecrets(t *testing.T) {
	refused := map[string]map[string]string{
		"REDIS_URL":         with(realEnv(), "REDIS_URL", "http://ops:s3cr3t-redis@redis.internal"),
		"TWILIO_AUTH_TOKEN": with(realEnv(), "TWILIO_AUTH_TOKEN", "s3cr3t-auth-token"),
		"PPP_ADMIN_TOKEN":   with(realEnv(), "PPP_ADMIN_TOKEN", "s3cr3t"),
		"PPP_MASTER_KEY":    with(realEnv(), "PPP_MASTER_KEY", "s3cr3t-master-key"),
		"PPP_PAYMENT_KEY":   with(realEnv(), "PPP_PAYMENT_KEY", devPaymentKey),
	}
	for _, v := range configVars {
		if _, ok := refused[v.Name]; v.Secret != ok {
			t.Errorf("%s: secret tag %v, but listed here as a secret: %v", v.Name, v.Secret, ok)
		}
	}
	for name, givenEnv := range refused {
		v := configVar(name)
		t.Run(v.Name, func(t *testing.T) {
			_, err := LoadConfig(func(k string) string { return givenEnv[k] })
			if got := flagged(err); !slices.Equal(got, []string{v.Name}) {
				t.Fatalf("reported %v, want [%s]\n%v", got, v.Name, err)
			}
			secret := givenEnv[v.Name]
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the message quotes the secret %s:\n%v", v.Name, err)
			}
		})
	}
}

// readmeVars returns the rows of README.md's configuration table: each
// variable named in a row's first cell, with the row's default and meaning.
func readmeVars(t *testing.T) map[string][2]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string][2]string{}
	inTable := false
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
	for line := range strings.Lines(section) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break // the table ends
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if !inTable {
			if len(cells) != 3 || strings.TrimSpace(cells[0]) != "variable" {
				t.Fatalf("the Configuration table begins %q, want | variable | default | meaning |", line)
			}
			inTable = true
			continue
		}
		if strings.Trim(line, "|-: ") == "" {
			continue // the header's rule
		}
		if len(cells) != 3 {
			t.Fatalf("README row %q has %d cells, want 3", line, len(cells))
		}
		for _, m := range name.FindAllStringSubmatch(cells[0], -1) {
			rows[m[1]] = [2]string{strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])}
		}
	}
	if len(rows) == 0 {
		t.Fatal("README.md's Configuration section has no table of variables")
	}
	return rows
}

// TestConfigMatchesREADME keeps the README's table of variables and Config
// in step: every variable of Config has a row that shows its default, and
// every row is a variable of Config or marked as the simulated world's.
func TestConfigMatchesREADME(t *testing.T) {
	rows := readmeVars(t)
	params, err := env.GetFieldParams(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, p := range params {
		declared[p.Key] = true
		row, ok := rows[p.Key]
		if !ok {
			t.Errorf("%s is read by Config but missing from the table in README.md", p.Key)
			continue
		}
		if p.HasDefaultValue && !strings.Contains(row[0], "`"+p.DefaultValue+"`") {
			t.Errorf("README.md gives %s the default %s, Config `%s`", p.Key, row[0], p.DefaultValue)
		}
	}
	for k, row := range rows {
		if !declared[k] && !strings.HasPrefix(row[1], "*(world)*") {
			t.Errorf("README.md's table lists %s, which Config does not read (mark it *(world)* if the simulated world reads it)", k)
		}
	}
}
