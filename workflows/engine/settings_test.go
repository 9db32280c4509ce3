package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// at is the position "settings.yaml:L:C: " of the line where needle starts
// in the shipped file (plus skip lines), so the expected positions follow
// edits of that file.
func at(needle string, col int, skip ...int) string {
	base := string(DefaultSettingsYAML())
	i := strings.Index(base, needle)
	if i < 0 {
		panic("not in the shipped settings: " + needle)
	}
	line := strings.Count(base[:i], "\n") + 1
	for _, n := range skip {
		line += n
	}
	return fmt.Sprintf("settings.yaml:%d:%d: ", line, col)
}

// Every problem of a settings file is reported, all at once, at the line
// and column of the offending value (or of its key when the value is a
// block, or of the parent when a key is missing).
func TestSettingsProblemsHavePositions(t *testing.T) {
	base := string(DefaultSettingsYAML())
	tests := []struct {
		name  string
		edits [][2]string // old, new: each replaced once
		want  []string    // the problems, in file order
	}{
		{"unknown key", [][2]string{{"currency: HKD\n", "currency: HKD\ncurrencyy: HKD\n"}},
			[]string{"settings.yaml:7:1: currencyy: unknown key"}},
		{"unknown nested key", [][2]string{{"  pin_attempts: 3", "  pin_atempts: 3"}},
			[]string{
				at("voice:\n", 1) + "voice.pin_attempts: must be at least 1", // missing, so reported at voice
				at("  pin_attempts: 3", 3) + "voice.pin_atempts: unknown key",
			}},
		{"wrong type", [][2]string{{"lead_time: 10m ", "lead_time: soon"}},
			[]string{`settings.yaml:9:12: lead_time: "soon" is not a duration such as 5m`}},
		{"duration without a unit", [][2]string{{"grace_period: 10m ", "grace_period: 600"}},
			[]string{`settings.yaml:10:15: grace_period: "600" is not a duration such as 5m`}},
		{"boolean expected", [][2]string{{"allow_unknown_callers: true", "allow_unknown_callers: maybe"}},
			[]string{at("allow_unknown_callers: true", 26) + `voice.allow_unknown_callers: "maybe" is not a boolean (true or false)`}},
		{"list expected", [][2]string{{"escalation:\n  - channel: push\n  - channel: sms\n    after: 2m\n  - channel: voice\n    after: 3m\n", "escalation: sms\n"}},
			[]string{"settings.yaml:22:13: escalation: must be a list"}},
		{"zero duration", [][2]string{{"lead_time: 10m ", "lead_time: 0s  "}},
			[]string{
				"settings.yaml:9:12: lead_time: must be a positive duration such as 5m",
				"settings.yaml:9:12: lead_time: 0s is outside lead_time_range (5m0s to 30m0s)",
			}},
		{"negative delay", [][2]string{{"    after: 3m", "    after: -3m"}},
			[]string{"settings.yaml:27:12: escalation[2].after: every step after the first needs a positive delay"}},
		{"retention out of bounds", [][2]string{{"retention: {finished: 2160h, history: 200}", "retention: {finished: 10m, history: 5}"}},
			[]string{
				at("retention: {finished: 2160h", 23) + "retention.finished: 10m0s is shorter than the shortest accepted, 1h0m0s",
				at("retention: {finished: 2160h", 37) + "retention.history: 5 must be between 20 and 10000 entries",
			}},
		{"bad channel", [][2]string{{"  - channel: sms", "  - channel: fax"}},
			[]string{`settings.yaml:24:14: escalation[1].channel: "fax" must be push, sms or voice`}},
		{"lead time range min", [][2]string{{"{min: 5m, max: 30m}", "{min: 0s, max: 30m}"}},
			[]string{"settings.yaml:16:24: lead_time_range.min: must be a positive duration such as 5m"}},
		{"lead time range max", [][2]string{{"{min: 5m, max: 30m}", "{min: 5m, max: 1m}"}},
			[]string{"settings.yaml:16:33: lead_time_range.max: 1m0s must not be below min (5m0s)"}},
		{"lead time out of range", [][2]string{{"lead_time: 10m ", "lead_time: 40m "}},
			[]string{"settings.yaml:9:12: lead_time: 40m0s is outside lead_time_range (5m0s to 30m0s)"}},
		{"bad quiet hours", [][2]string{{`{start: "22:00"`, `{start: "25:00"`}},
			[]string{`settings.yaml:28:22: quiet_hours.start: "25:00" is not HH:MM; use a time like 22:00`}},
		{"unknown voice language", [][2]string{{"    en: {language: en-GB, voice: Polly.Amy}\n", "    en: {language: en-GB, voice: Polly.Amy}\n    fr: {language: fr-FR, voice: Polly.Lea}\n"}},
			[]string{at("    en: {language: en-GB, voice: Polly.Amy}\n", 5, 1) + "voice.voices.fr: unknown language: it has no templates"}},
		{"missing template is reported at its language", [][2]string{{`    status: "Bay {{.Bay}} at {{.Location}} is paid until {{.Expiry}}."` + "\n", ""}},
			[]string{at("templates:\n  en:\n", 3, 1) + "templates.en.status: missing"}},
		{"bad amount", [][2]string{{`rate_per_hour: "20.00"`, `rate_per_hour: "20.001"`}},
			[]string{at(`rate_per_hour: "20.00"`, 18) + `tariff.rate_per_hour: "20.001" is not an amount such as 12.50`}},
		{"every problem at once", [][2]string{
			{"lead_time: 10m ", "lead_time: soon"},
			{"  - channel: sms", "  - channel: fax"},
			{"currency: HKD\n", "currency: HKD\ncurrencyy: HKD\n"},
		}, []string{
			"settings.yaml:7:1: currencyy: unknown key",
			`settings.yaml:10:12: lead_time: "soon" is not a duration such as 5m`,
			`settings.yaml:25:14: escalation[1].channel: "fax" must be push, sms or voice`,
		}},
		{"syntax error", [][2]string{{"currency: HKD\n", "currency: HKD\n  code: HKD\n"}},
			[]string{"settings.yaml:7: mapping values are not allowed in this context"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := base
			for _, e := range tt.edits {
				if !strings.Contains(y, e[0]) {
					t.Fatalf("%q is not in the shipped file", e[0])
				}
				y = strings.Replace(y, e[0], e[1], 1)
			}
			_, err := ParseSettings([]byte(y))
			if !errors.Is(err, ErrSettings) {
				t.Fatalf("err = %v, want an ErrSettings", err)
			}
			got := strings.Split(err.Error(), "\n")[1:]
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var p *SettingsProblem
			if !errors.As(err, &p) || p.File != "settings.yaml" {
				t.Fatalf("no *SettingsProblem in %v", err)
			}
		})
	}
}

// Checks made elsewhere can point at a setting.
func TestSettingsPosition(t *testing.T) {
	s, err := ParseSettings(DefaultSettingsYAML())
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Position("lead_time"); got != "settings.yaml:9:12" {
		t.Fatalf("lead_time at %q", got)
	}
	if got, want := s.Position("templates.en.nosuch")+": ", at("templates:\n  en:\n", 3, 1); got != want {
		t.Fatalf("a missing template at %q, want its language", got)
	}
}

// A settings file on disk is named by its path in every problem.
func TestLoadSettingsNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ops.yaml")
	y := strings.Replace(string(DefaultSettingsYAML()), "lead_time: 10m ", "lead_time: -1m ", 1)
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSettings(path)
	if want := path + ":9:12: lead_time: must be a positive duration such as 5m"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to contain %q", err, want)
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
		}, "grace_alert_before: 20m0s must be shorter than grace_period"},
		{"unknown key", func(s string) string { return strings.Replace(s, "currency: HKD", "currency: HKD\ncurrencyy: HKD", 1) }, "currencyy: unknown key"},
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
