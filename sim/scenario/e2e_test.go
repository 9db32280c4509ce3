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

// TestShippedScenariosPassOnARealStack runs every shipped scenario in
// parallel against a real pppd, then the broken one for its diff.
func TestShippedScenariosPassOnARealStack(t *testing.T) {
	server, simURL, token := startStack(t)
	scs, err := Load(filepath.Join("..", "..", "testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 16 {
		t.Fatalf("%d shipped scenarios", len(scs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	r := &Runner{Server: server, Sim: simURL, AdminToken: token, Parallel: 8, Out: &out}
	rep := r.Run(ctx, scs)
	if !rep.Passed() || rep.ExitCode() != ExitPassed {
		t.Fatalf("shipped scenarios failed (exit %d):\n%s", rep.ExitCode(), out.String())
	}
	t.Logf("%s", out.String())

	// Run again: the names are drawn afresh, so no reset is needed.
	again := r.Run(ctx, scs[:1])
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
