package main

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
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
	env := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(env, kv[i])
		} else {
			env[kv[i]] = kv[i+1]
		}
	}
	return env
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
			givenEnv: with(realEnv(), "PPP_WAKE_CALLER_ID", "+442071234567", "PPP_LOG_LEVEL", "DEBUG", "PPP_LOG_JSON", "1", "PPP_WORKERS", "4", "PPP_DEFAULT_REGION", "GB"),
			expect: func(t *testing.T, c Config) {
				if c.LogLevel != "debug" || !c.LogJSON || c.Workers != 4 || c.Region != "GB" {
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
