package engine

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"
)

//go:embed settings.default.yaml
var defaultSettingsYAML []byte

// DefaultSettingsYAML returns the operator settings file that ships with the
// product, so operators can start from it.
func DefaultSettingsYAML() []byte { return append([]byte(nil), defaultSettingsYAML...) }

// Settings is the operator's configuration of the renewal conversation. It is
// loaded from a YAML file (see docs/settings.md) and validated at start-up.
type Settings struct {
	// Operator is the name shown to drivers at the start of every message.
	Operator string `yaml:"operator"`
	// HelpContact is shown in the HELP reply (a phone number or web address).
	HelpContact string `yaml:"help_contact"`
	// Currency is the ISO 4217 code of every amount, for example HKD.
	Currency string `yaml:"currency"`
	// TimeZone is the IANA time zone in which times are shown to drivers.
	TimeZone string `yaml:"time_zone"`
	// LeadTime is how long before the paid time ends the expiry notice is sent.
	LeadTime time.Duration `yaml:"lead_time"`
	// GracePeriod is how long after the paid time ends a renewal is still accepted.
	GracePeriod time.Duration `yaml:"grace_period"`
	// GraceAlertBefore is how long before the grace period ends the alert
	// requested with option 2 is sent.
	GraceAlertBefore time.Duration `yaml:"grace_alert_before"`
	// MaximumStay is the longest a stay at one bay may last, counted from the
	// first payment; renewals are capped or refused beyond it.
	MaximumStay time.Duration `yaml:"maximum_stay"`
	// ExtensionStep is how much time one renewal adds.
	ExtensionStep time.Duration `yaml:"extension_step"`
	// MeterAckTimeout is how long to wait for the meter to acknowledge a renewal
	// before confirming on the central record alone and alerting the operator.
	MeterAckTimeout time.Duration `yaml:"meter_ack_timeout"`
	// AppRenewURL is the link sent with option 3; the conversation id is appended.
	AppRenewURL string `yaml:"app_renew_url"`
	// Tariff is the default tariff.
	Tariff Tariff `yaml:"tariff"`
	// Zones override the maximum stay and tariff for meters in a zone.
	Zones map[string]Zone `yaml:"zones"`
	// DefaultLanguage is used for users without a language of their own.
	DefaultLanguage string `yaml:"default_language"`
	// Templates holds every message in every offered language, by language tag
	// and then by message name (see TemplateNames).
	Templates map[string]map[string]string `yaml:"templates"`
	// Escalation is the order of channels for the expiry notice and the
	// grace alert, each tried after a delay without an answer.
	Escalation []EscalationStep `yaml:"escalation"`
	// QuietHours are when calls are not placed (unless the driver opted in).
	QuietHours QuietHours `yaml:"quiet_hours"`
	// LeadTimeRange bounds the lead time drivers may choose for themselves.
	LeadTimeRange LeadTimeRange `yaml:"lead_time_range"`
	// Voice configures calls.
	Voice VoiceSettings `yaml:"voice"`
	// VoiceTemplates holds every spoken prompt in every language (see
	// VoiceTemplateNames).
	VoiceTemplates map[string]map[string]string `yaml:"voice_templates"`
	// ChargeCheck is how a charge with an unknown outcome is reconciled.
	ChargeCheck ChargeCheckSettings `yaml:"charge_check"`
	// Retention bounds what is kept of each conversation.
	Retention RetentionSettings `yaml:"retention"`

	file           string        // the file parsed, for Position
	index          settingsIndex // where each setting is written
	loc            *time.Location
	templates      map[string]map[string]*template.Template
	voiceTemplates map[string]map[string]*template.Template
}

// Zone holds the settings that differ per tariff zone.
type Zone struct {
	// MaximumStay overrides Settings.MaximumStay when set.
	MaximumStay time.Duration `yaml:"maximum_stay"`
	// Tariff overrides Settings.Tariff when it has a rate.
	Tariff *Tariff `yaml:"tariff"`
}

// TemplateNames lists every message the conversation can send; each language
// must define all of them.
var TemplateNames = []string{
	"notice", "notice_debit", "notice_max_stay", "menu", "quote", "quote_capped", "max_stay_reached",
	"alert_scheduled", "grace_alert", "app_link", "confirmed", "confirmed_central",
	"declined", "insufficient_funds", "card_expired", "payment_unavailable", "debit",
	"blacklisted_card", "blacklisted_phone", "quote_cancelled", "declined_offer",
	"processing", "payment_checking", "status", "ended", "superseded", "no_session", "help", "opted_in",
}

// ErrSettings wraps every validation failure of a settings file.
var ErrSettings = errors.New("invalid settings")

// LoadSettings reads and validates a settings file; an empty path loads the
// shipped default. Every problem is reported at once, each with the file's
// line and column (see SettingsProblem).
func LoadSettings(path string) (*Settings, error) {
	if path == "" {
		return ParseSettingsFile("settings.default.yaml", defaultSettingsYAML)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSettings, err)
	}
	return ParseSettingsFile(path, b)
}

// ParseSettings decodes and validates settings YAML, naming it settings.yaml
// in its problems.
func ParseSettings(data []byte) (*Settings, error) { return ParseSettingsFile("settings.yaml", data) }

// ParseSettingsFile decodes and validates the settings file named name.
// Unknown keys, values of the wrong type and invalid values are all
// reported, joined in one ErrSettings error whose parts are
// *SettingsProblem, such as
//
//	settings.yaml:12:5: lead_time_range.min: must be a positive duration
func ParseSettingsFile(name string, data []byte) (*Settings, error) {
	return parseSettingsFile(name, data)
}

// Revalidate checks settings again after they were changed in code (tests,
// tools) and refreshes what validation derives from them. Its problems have
// no position.
func (s *Settings) Revalidate() error {
	problems := s.validate()
	if len(problems) == 0 {
		return nil
	}
	out := make([]*SettingsProblem, len(problems))
	for i, p := range problems {
		out[i] = &SettingsProblem{Path: p.path, Msg: p.msg}
	}
	return settingsError(out...)
}

// validate checks the decoded settings and derives what they imply; each
// problem is "path: message".
func (s *Settings) validate() []problem {
	var problems []problem
	bad := func(format string, a ...any) { problems = append(problems, newProblem(fmt.Sprintf(format, a...))) }
	if s.Operator == "" {
		bad("operator: must be set")
	}
	if len(s.Currency) != 3 || strings.ToUpper(s.Currency) != s.Currency {
		bad("currency: %q is not an ISO 4217 code such as HKD", s.Currency)
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil || s.TimeZone == "" {
		bad("time_zone: %q is not an IANA time zone such as Asia/Hong_Kong", s.TimeZone)
	}
	s.loc = loc
	positive := map[string]time.Duration{
		"lead_time": s.LeadTime, "grace_period": s.GracePeriod, "grace_alert_before": s.GraceAlertBefore,
		"maximum_stay": s.MaximumStay, "extension_step": s.ExtensionStep, "meter_ack_timeout": s.MeterAckTimeout,
	}
	for _, k := range sortedKeys(positive) {
		if positive[k] <= 0 {
			bad("%s: must be a positive duration such as 5m", k)
		}
	}
	if s.GraceAlertBefore >= s.GracePeriod && s.GracePeriod > 0 {
		bad("grace_alert_before: %s must be shorter than grace_period (%s)", s.GraceAlertBefore, s.GracePeriod)
	}
	if s.AppRenewURL == "" || !(strings.HasPrefix(s.AppRenewURL, "https://") || strings.HasPrefix(s.AppRenewURL, "http://")) {
		bad("app_renew_url: must be an http(s) URL")
	}
	if err := s.Tariff.validate("tariff"); err != nil {
		bad("%v", err)
	}
	for _, name := range sortedKeys(s.Zones) {
		z := s.Zones[name]
		if z.MaximumStay < 0 {
			bad("zones.%s.maximum_stay: must not be negative", name)
		}
		if z.Tariff != nil {
			if err := z.Tariff.validate("zones." + name + ".tariff"); err != nil {
				bad("%v", err)
			}
		}
	}
	if _, ok := s.Templates[s.DefaultLanguage]; !ok {
		bad("default_language: %q has no templates", s.DefaultLanguage)
	}
	s.templates = map[string]map[string]*template.Template{}
	for _, lang := range sortedKeys(s.Templates) {
		if !languageTag.MatchString(lang) {
			bad("templates.%s: %q is not a language tag such as en or zh-HK", lang, lang)
		}
		set := s.Templates[lang]
		s.templates[lang] = map[string]*template.Template{}
		for _, name := range TemplateNames {
			text, ok := set[name]
			if !ok || strings.TrimSpace(text) == "" {
				bad("templates.%s.%s: missing", lang, name)
				continue
			}
			t, err := template.New(name).Option("missingkey=error").Parse(text)
			if err != nil {
				bad("templates.%s.%s: %v", lang, name, err)
				continue
			}
			if _, err := renderTemplate(t, SampleMessageData()); err != nil {
				bad("templates.%s.%s: %v", lang, name, err)
				continue
			}
			s.templates[lang][name] = t
		}
		for name := range set {
			if !contains(TemplateNames, name) {
				bad("templates.%s.%s: unknown message name", lang, name)
			}
		}
	}
	s.validateVoice(bad)
	s.validateEscalation(bad)
	s.validateChargeCheck(bad)
	s.validateRetention(bad)
	return problems
}

// languageTag is the shape of a BCP 47 tag as templates are keyed: en,
// zh-HK, zh-Hant-HK.
var languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// Location is the time zone in which times are shown.
func (s *Settings) Location() *time.Location { return s.loc }

// Languages lists the languages that have templates, sorted.
func (s *Settings) Languages() []string { return sortedKeys(s.Templates) }

// Language returns lang if the operator offers it, else the default language.
func (s *Settings) Language(lang string) string {
	if _, ok := s.templates[lang]; ok {
		return lang
	}
	return s.DefaultLanguage
}

// MaximumStayFor returns the maximum stay in a zone.
func (s *Settings) MaximumStayFor(zone string) time.Duration {
	if z, ok := s.Zones[zone]; ok && z.MaximumStay > 0 {
		return z.MaximumStay
	}
	return s.MaximumStay
}

// TariffFor returns the tariff of a zone.
func (s *Settings) TariffFor(zone string) Tariff {
	if z, ok := s.Zones[zone]; ok && z.Tariff != nil {
		return *z.Tariff
	}
	return s.Tariff
}

// Render produces the text of message name in lang with data.
func (s *Settings) Render(lang, name string, data MessageData) (string, error) {
	t, ok := s.templates[s.Language(lang)][name]
	if !ok {
		return "", fmt.Errorf("%w: no template %q", ErrSettings, name)
	}
	return renderTemplate(t, data)
}

func renderTemplate(t *template.Template, data MessageData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// MessageData holds the values a template may use. Every value is already
// formatted for the driver (times in the operator's time zone, money with its
// currency, card as its last four digits).
type MessageData struct {
	Operator    string
	HelpContact string
	Location    string
	Bay         string
	Expiry      string
	NewExpiry   string
	GraceEnd    string
	AlertAt     string
	Amount      string
	Last4       string
	Minutes     int
	MaxStay     string
	Link        string
	// Spoken forms for voice prompts.
	SpokenAmount    string
	SpokenExpiry    string
	SpokenNewExpiry string
	SpokenGraceEnd  string
	// Choices lists numbered options in a call (written by the call handler).
	Choices string
}

// SampleMessageData is long-but-realistic data used to check that every
// template renders and fits its segment budget.
func SampleMessageData() MessageData {
	return MessageData{
		Operator: "Demo City Parking", HelpContact: "+852 2800 0000", Location: "Queen's Road Central 88",
		Bay: "B-1234", Expiry: "23:45", NewExpiry: "00:15", GraceEnd: "23:55", AlertAt: "23:53",
		Amount: "HKD 1,234.50", Last4: "4242", Minutes: 120, MaxStay: "3h", Link: "https://app.example.com/r/c-MTR0001-T000000001",
		SpokenAmount: "1234 Hong Kong dollars and 50 cents", SpokenExpiry: "11:45 PM", SpokenNewExpiry: "12:15 AM", SpokenGraceEnd: "11:55 PM",
		Choices: "Press 1 for bay B-1234 at Queen's Road Central 88. Press 2 for bay B-1235 at Queen's Road Central 88.",
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
