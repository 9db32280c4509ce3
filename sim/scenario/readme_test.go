package scenario

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readme is the repository's README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeScenario is the scenario the README shows testers, as a file.
func readmeScenario(t *testing.T) *Scenario {
	t.Helper()
	m := regexp.MustCompile("(?s)```yaml\n(name: renew by SMS\n.*?)```").FindStringSubmatch(readme(t))
	if m == nil {
		t.Fatal("the README shows no scenario")
	}
	sc, err := Parse("README.md", []byte(m[1]))
	if err != nil {
		t.Fatalf("the README's scenario is refused: %v", err)
	}
	return sc
}

// Every walkthrough section of the README names the shipped scenarios that
// prove it, and they exist and load, so the README cannot drift unnoticed:
// make test runs every shipped scenario.
func TestEveryREADMEWalkthroughNamesTheScenarioThatProvesIt(t *testing.T) {
	text := readme(t)
	sections := regexp.MustCompile(`(?m)^#{2,3} `).Split(text, -1)
	walkthroughs := map[string]bool{
		"Try it in two minutes": false, "A sleeping meter, woken by a call": false, "By phone (keypad)": false,
		"With the app, escalating to SMS and a call": false, "What the driver can do": false,
	}
	fileRe := regexp.MustCompile("`(testdata/scenarios/[a-z_]+\\.yaml)`")
	for _, sec := range sections {
		title, body, _ := strings.Cut(sec, "\n")
		if _, ok := walkthroughs[title]; !ok {
			continue
		}
		_, proof, ok := strings.Cut(body, "Proven by:")
		if !ok {
			t.Errorf("README section %q names no scenario (a line starting \"Proven by:\")", title)
			continue
		}
		proof, _, _ = strings.Cut(proof, "\n\n")
		files := fileRe.FindAllStringSubmatch(proof, -1)
		if len(files) == 0 {
			t.Errorf("README section %q: \"Proven by:\" names no testdata/scenarios file", title)
		}
		for _, f := range files {
			if _, err := Load(filepath.Join("..", "..", f[1])); err != nil {
				t.Errorf("README section %q names %s: %v", title, f[1], err)
			}
		}
		walkthroughs[title] = true
	}
	for title, seen := range walkthroughs {
		if !seen {
			t.Errorf("README has no section %q", title)
		}
	}
}

func TestTheREADMEScenarioLoads(t *testing.T) {
	sc := readmeScenario(t)
	if len(sc.Steps) != 7 {
		t.Fatalf("the README's scenario has %d steps", len(sc.Steps))
	}
}
