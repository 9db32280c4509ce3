package sms

import (
	"fmt"
	"strings"

	"ppprenew/workflows/engine"
)

// CheckTemplates renders every template of every language with long sample
// values and reports each one that needs more than maxSegments segments.
func CheckTemplates(set *engine.Settings, maxSegments int) error {
	var problems []string
	for _, lang := range set.Languages() {
		for _, name := range engine.TemplateNames {
			body, err := set.Render(lang, name, engine.SampleMessageData())
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s.%s: %v", lang, name, err))
				continue
			}
			if enc, n, units := Segments(body); n > maxSegments {
				problems = append(problems, fmt.Sprintf("%s.%s: %d %s segments (%d units), at most %d allowed", lang, name, n, enc, units, maxSegments))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: messages too long:\n  - %s", engine.ErrSettings, strings.Join(problems, "\n  - "))
	}
	return nil
}
