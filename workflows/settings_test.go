package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestShippedSettingsLoad(t *testing.T) {
	s, err := LoadSettings("")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Languages(); strings.Join(got, ",") != "en,zh-CN,zh-HK" {
		t.Fatalf("languages %v", got)
	}
	if s.MaximumStayFor("central") != 2*time.Hour || s.MaximumStayFor("nowhere") != 3*time.Hour {
		t.Fatalf("zone maximum stay not applied")
	}
	if s.Language("fr") != "en" || s.Language("zh-HK") != "zh-HK" {
		t.Fatalf("language fallback wrong")
	}
}

func TestSettingsValidation(t *testing.T) {
	base := string(DefaultSettingsYAML())
	tests := []struct {
		name   string
		edit   func(string) string
		expect string
	}{
		{"bad time zone", func(s string) string { return strings.Replace(s, "Asia/Hong_Kong", "Mars/Olympus", 1) }, "time_zone"},
		{"zero lead time", func(s string) string { return strings.Replace(s, "lead_time: 10m", "lead_time: 0s", 1) }, "lead_time: must be a positive duration"},
		{"alert after grace", func(s string) string {
			return strings.Replace(s, "grace_alert_before: 3m", "grace_alert_before: 20m", 1)
		}, "grace_alert_before (20m0s) must be shorter than grace_period"},
		{"unknown key", func(s string) string { return strings.Replace(s, "currency: HKD", "currency: HKD\ncurrencyy: HKD", 1) }, "field currencyy not found"},
		{"bad amount", func(s string) string {
			return strings.Replace(s, `rate_per_hour: "20.00"`, `rate_per_hour: "20.001"`, 1)
		}, "not an amount"},
		{"missing template", func(s string) string {
			return strings.Replace(s, `    status: "Bay {{.Bay}} at {{.Location}} is paid until {{.Expiry}}."`+"\n", "", 1)
		}, "templates.en.status: missing"},
		{"unknown placeholder", func(s string) string {
			return strings.Replace(s, `status: "Bay {{.Bay}}`, `status: "Bay {{.Bayy}}`, 1)
		}, "templates.en.status"},
		{"bands out of order", func(s string) string { return strings.Replace(s, "after: 2h", "after: -2h", 1) }, "progressive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSettings([]byte(tt.edit(base)))
			if !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), tt.expect) {
				t.Fatalf("want an ErrSettings mentioning %q, got %v", tt.expect, err)
			}
		})
	}
}
