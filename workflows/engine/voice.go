package engine

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// VoiceSettings configure calls (see docs/settings.md).
type VoiceSettings struct {
	// RingTimeout is how long an outbound call rings before it counts as not answered.
	RingTimeout time.Duration `yaml:"ring_timeout"`
	// GatherTimeout is how long the keypad menu waits for a digit.
	GatherTimeout time.Duration `yaml:"gather_timeout"`
	// MaxNoInput is how many silent menus are repeated before the call ends
	// and the message goes out as a text instead.
	MaxNoInput int `yaml:"max_no_input"`
	// MaxCall caps the length of any call.
	MaxCall time.Duration `yaml:"max_call"`
	// PINRequired makes voice confirmation of a charge ask for the driver's PIN.
	PINRequired bool `yaml:"pin_required"`
	// PINAttempts wrong PINs lock voice confirmation for PINLockout.
	PINAttempts int           `yaml:"pin_attempts"`
	PINLockout  time.Duration `yaml:"pin_lockout"`
	// AllowUnknownCallers lets callers with a withheld or unregistered number
	// reach a session by meter, bay and PIN; otherwise they hear a goodbye.
	AllowUnknownCallers bool `yaml:"allow_unknown_callers"`
	// Voices picks the text-to-speech voice per language.
	Voices map[string]Voice `yaml:"voices"`
}

// Voice is a Twilio <Say> voice and language.
type Voice struct {
	// Language is the <Say language> value, e.g. en-GB, yue-HK, cmn-CN.
	Language string `yaml:"language"`
	// Voice is the <Say voice> value, e.g. Polly.Amy or Google.yue-HK-Standard-A.
	Voice string `yaml:"voice"`
}

// VoiceTemplateNames lists the spoken prompts every language must define:
// the conversation's messages as they are spoken, and the call's own prompts.
var VoiceTemplateNames = []string{
	"notice", "grace_alert", "notice_debit", "notice_max_stay", "menu", "quote", "quote_capped", "max_stay_reached",
	"alert_scheduled", "app_link", "confirmed", "confirmed_central", "declined", "insufficient_funds", "card_expired",
	"payment_unavailable", "debit", "blacklisted_card", "blacklisted_phone", "quote_cancelled", "declined_offer",
	"processing", "payment_checking", "status",
	// The call's own prompts.
	"hold", "invalid", "no_input", "goodbye", "pin_prompt", "pin_wrong", "pin_locked", "voicemail",
	"choose_session", "no_session", "unknown_caller", "ask_meter", "ask_bay", "not_found", "error",
}

func (s *Settings) validateVoice(bad func(string, ...any)) {
	v := &s.Voice
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"ring_timeout", v.RingTimeout}, {"gather_timeout", v.GatherTimeout}, {"max_call", v.MaxCall}, {"pin_lockout", v.PINLockout}} {
		if d.v <= 0 {
			bad("voice.%s: must be a positive duration such as 30s", d.key)
		}
	}
	if v.MaxNoInput < 0 {
		bad("voice.max_no_input: must be 0 or more")
	}
	if v.PINAttempts < 1 {
		bad("voice.pin_attempts: must be at least 1")
	}
	for _, lang := range sortedKeys(v.Voices) {
		if _, ok := s.Templates[lang]; !ok {
			bad("voice.voices.%s: unknown language: it has no templates", lang)
		}
	}
	for _, lang := range sortedKeys(s.VoiceTemplates) {
		if _, ok := s.Templates[lang]; !ok {
			bad("voice_templates.%s: unknown language: it has no templates", lang)
		}
	}
	s.voiceTemplates = map[string]map[string]*template.Template{}
	for _, lang := range sortedKeys(s.Templates) {
		if vc, ok := v.Voices[lang]; !ok || vc.Language == "" {
			bad("voice.voices.%s: a voice with a language is required for every language", lang)
		}
		s.voiceTemplates[lang] = map[string]*template.Template{}
		for _, name := range VoiceTemplateNames {
			text := s.VoiceTemplates[lang][name]
			if strings.TrimSpace(text) == "" {
				bad("voice_templates.%s.%s: missing", lang, name)
				continue
			}
			t, err := template.New(name).Option("missingkey=error").Parse(text)
			if err == nil {
				_, err = renderTemplate(t, SampleMessageData())
			}
			if err != nil {
				bad("voice_templates.%s.%s: %v", lang, name, err)
				continue
			}
			s.voiceTemplates[lang][name] = t
		}
		for name := range s.VoiceTemplates[lang] {
			if !contains(VoiceTemplateNames, name) {
				bad("voice_templates.%s.%s: unknown prompt name", lang, name)
			}
		}
	}
}

// RenderVoice produces the spoken text of prompt name in lang.
func (s *Settings) RenderVoice(lang, name string, data MessageData) (string, error) {
	t, ok := s.voiceTemplates[s.Language(lang)][name]
	if !ok {
		return "", fmt.Errorf("%w: no voice prompt %q", ErrSettings, name)
	}
	return renderTemplate(t, data)
}

// VoiceFor returns the voice of a language.
func (s *Settings) VoiceFor(lang string) Voice { return s.Voice.Voices[s.Language(lang)] }

var currencyNames = map[string]map[string]string{
	"en":    {"HKD": "Hong Kong dollars", "CNY": "yuan", "USD": "US dollars", "EUR": "euros", "GBP": "pounds"},
	"zh-HK": {"HKD": "港幣", "CNY": "人民幣", "USD": "美元"},
	"zh-CN": {"HKD": "港币", "CNY": "人民币", "USD": "美元"},
}

// SpokenAmount renders money the way it is said: "10 Hong Kong dollars and
// 50 cents", "港幣10元5角".
func SpokenAmount(lang string, m Money, currency string) string {
	whole, cents := int64(m)/100, int64(m)%100
	name := currencyNames[lang][currency]
	if name == "" {
		name = currency
	}
	if strings.HasPrefix(lang, "zh") {
		s := fmt.Sprintf("%s%d元", name, whole)
		if jiao, fen := cents/10, cents%10; jiao != 0 || fen != 0 {
			s += fmt.Sprintf("%d角", jiao)
			if fen != 0 {
				s += fmt.Sprintf("%d分", fen)
			}
		}
		return s
	}
	if cents == 0 {
		return fmt.Sprintf("%d %s", whole, name)
	}
	return fmt.Sprintf("%d %s and %d cents", whole, name, cents)
}

// SpokenTime renders a clock time the way it is said: "3:40 PM", "下午3時40分".
func SpokenTime(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if lang == "zh-HK" || lang == "zh-CN" {
		half := "上午"
		if t.Hour() >= 12 {
			half = "下午"
		}
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		unit := "時"
		if lang == "zh-CN" {
			unit = "点"
		}
		if t.Minute() == 0 {
			return fmt.Sprintf("%s%d%s", half, h, unit)
		}
		return fmt.Sprintf("%s%d%s%d分", half, h, unit, t.Minute())
	}
	return t.Format("3:04 PM")
}
