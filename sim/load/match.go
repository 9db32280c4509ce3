package load

import (
	"regexp"
	"sort"
	"strings"
)

// matcher tells which of the server's message templates a text is.
type matcher struct {
	names []string
	res   map[string]*regexp.Regexp
}

var placeholder = regexp.MustCompile(`\{\{[^}]*\}\}`)

// newMatcher compiles every template: its literal text must appear as
// written, each {{...}} matches anything.
func newMatcher(templates map[string]string) *matcher {
	m := &matcher{res: map[string]*regexp.Regexp{}}
	for name, tpl := range templates {
		var b strings.Builder
		b.WriteString(`(?s)^`)
		last := 0
		for _, loc := range placeholder.FindAllStringIndex(tpl, -1) {
			b.WriteString(regexp.QuoteMeta(tpl[last:loc[0]]))
			b.WriteString(`.*?`)
			last = loc[1]
		}
		b.WriteString(regexp.QuoteMeta(tpl[last:]))
		b.WriteString(`$`)
		re, err := regexp.Compile(b.String())
		if err != nil {
			continue
		}
		m.names = append(m.names, name)
		m.res[name] = re
	}
	// The most literal text first, so "menu" does not claim a notice that
	// ends with the menu.
	sort.Slice(m.names, func(i, j int) bool {
		li, lj := literalLen(templates[m.names[i]]), literalLen(templates[m.names[j]])
		if li != lj {
			return li > lj
		}
		return m.names[i] < m.names[j]
	})
	return m
}

func literalLen(tpl string) int { return len(placeholder.ReplaceAllString(tpl, "")) }

// kind is the template a text was made from, "" when none matches.
func (m *matcher) kind(body string) string {
	for _, name := range m.names {
		if m.res[name].MatchString(body) {
			return name
		}
	}
	return ""
}

// isConfirmation reports whether a template confirms a renewal.
func isConfirmation(name string) bool { return name == "confirmed" || name == "confirmed_central" }
