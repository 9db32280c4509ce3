package push

import (
	"encoding/json"
	"net/url"
	"slices"
	"time"

	"ppprenew/workflows/engine"
)

// actionLabels are the button labels per language.
var actionLabels = map[string]map[string]string{
	"en":    {"extend": "Extend", "remind": "Remind me", "open_app": "Open app", "confirm": "Confirm", "cancel": "Cancel"},
	"zh-HK": {"extend": "續期", "remind": "提醒我", "open_app": "開啟App", "confirm": "確認", "cancel": "取消"},
	"zh-CN": {"extend": "续期", "remind": "提醒我", "open_app": "打开App", "confirm": "确认", "cancel": "取消"},
}

// buttons of each category: id and answer, in display order.
var buttons = map[string][][2]string{
	CategoryRenewal: {{"extend", "1"}, {"remind", "2"}, {"open_app", "3"}},
	CategoryQuote:   {{"confirm", "yes"}, {"cancel", "no"}},
}

// Actions returns the buttons of a category labelled in a language
// (English when the language has no labels).
func Actions(category, language string) []Action {
	labels, ok := actionLabels[language]
	if !ok {
		labels = actionLabels["en"]
	}
	var out []Action
	for _, b := range buttons[category] {
		out = append(out, Action{ID: b[0], Answer: b[1], Title: labels[b[0]]})
	}
	return out
}

func actionsJSON(a []Action) string {
	b, _ := json.Marshal(a)
	return string(b)
}

// Link returns the deep link that opens the app on a conversation.
func (c Config) Link(conv string) string {
	if conv == "" {
		return c.DeepLink
	}
	return c.DeepLink + "?c=" + url.QueryEscape(conv)
}

// category returns the button set of a message template, or "".
func (c Config) category(template string) string {
	switch {
	case slices.Contains(c.MenuTemplates, template):
		return CategoryRenewal
	case slices.Contains(c.QuoteTemplates, template):
		return CategoryQuote
	}
	return ""
}

func (c Config) title(language string) string {
	if t, ok := c.Titles[language]; ok {
		return t
	}
	return c.Titles[c.DefaultLanguage]
}

// Compose builds the notification of a message, without its device token.
// st is the message's conversation (nil for a message that belongs to
// none); a conversation that has ended gets no buttons. now sets the
// message's lifetime from its ValidUntil.
func (c Config) Compose(conv, effectID string, m engine.Send, st *engine.State, now time.Time) Notification {
	c = c.withDefaults()
	lang := m.Language
	if lang == "" {
		lang = c.DefaultLanguage
	}
	n := Notification{
		Title: c.title(lang), Body: m.Body, Conv: conv, Template: m.Template, Language: lang,
		Link: c.Link(conv), CollapseKey: effectID, ExpiresAt: m.ValidUntil,
	}
	if !m.ValidUntil.IsZero() {
		n.TTL = max(m.ValidUntil.Sub(now).Truncate(time.Second), time.Second)
	}
	if slices.Contains(c.SilentTemplates, m.Template) || m.Body == "" {
		n.Title, n.Silent = "", true
	}
	if st != nil {
		n.MeterID, n.Bay, n.Location, n.PaidUntil = st.MeterID, st.Bay, st.Location, st.PaidUntil
	}
	if conv != "" && !n.Silent && (st == nil || !st.Phase.Terminal()) {
		if n.Category = c.category(m.Template); n.Category != "" {
			n.Actions = Actions(n.Category, lang)
		}
	}
	return n
}
