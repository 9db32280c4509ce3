package scenario

import (
	"bytes"
	"context"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScenariosOnARealStack runs a shipped scenario twice at once and the
// README's scenario against a real pppd and world (names are drawn afresh,
// so no reset is needed between runs), again, then the broken one for its
// diff and its JUnit report. Every
// shipped scenario runs through `pppsim run` in cmd/pppsim's tests.
func TestScenariosOnARealStack(t *testing.T) {
	server, simURL, token := startStack(t)
	scs, err := Load(filepath.Join("..", "..", "testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 16 {
		t.Fatalf("%d shipped scenarios", len(scs))
	}
	var first *Scenario
	for _, sc := range scs {
		if strings.HasSuffix(sc.File, "renew_by_sms.yaml") {
			first = sc
		}
	}
	if first == nil {
		t.Fatal("renew_by_sms.yaml is not shipped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	r := &Runner{Server: server, Sim: simURL, AdminToken: token, Parallel: 2, Out: &out}
	rep := r.Run(ctx, []*Scenario{first, first, readmeScenario(t)})
	if !rep.Passed() || rep.ExitCode() != ExitPassed {
		t.Fatalf("the same scenario twice at once, with the README's, failed (exit %d):\n%s", rep.ExitCode(), out.String())
	}
	again := r.Run(ctx, []*Scenario{first})
	if !again.Passed() {
		var b bytes.Buffer
		again.WriteText(&b)
		t.Fatalf("a re-run failed:\n%s", b.String())
	}

	broken, err := Load(filepath.Join("testdata", "broken.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	r.Parallel = 1
	rep = r.Run(ctx, broken)
	if rep.Passed() || rep.ExitCode() != ExitFailed {
		t.Fatalf("the broken scenario passed:\n%s", out.String())
	}
	text := out.String()
	for _, want := range []string{
		"FAIL   4 expect_sms",
		"expected: a text to +85*******01 matching /Renewed for free/ within 3s",
		"got instead (1 text(s) since the previous step):",
		"Extend bay 12 to",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("broken scenario output lacks %q:\n%s", want, text)
		}
	}
	var junit bytes.Buffer
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, junit.String())
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Failures != 1 || doc.Suites[0].Cases[0].Failure == nil ||
		!strings.Contains(doc.Suites[0].Cases[0].Failure.Text, "Extend bay 12 to") {
		t.Fatalf("JUnit:\n%s", junit.String())
	}
}
