package scenario

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadReportsEveryProblemWithItsPosition(t *testing.T) {
	dir := t.TempDir()
	bad := `name: bad
world:
  meters: [{id: M1, colour: red}]
  drivers: [{phone: "+852123", lang: fr}]
steps:
  - tap: {meter: M9, bay: 1, phone: "+85291230001", minutes: 10}
  - expect_sms: {to: "+85291230001", match: "(unclosed", within: soon}
  - teleport: {to: mars}
  - sms: {from: "+85291230001"}
`
	other := "steps:\n  - wait: forever\n"
	for name, body := range map[string]string{"a.yaml": bad, "b.yaml": other} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Load(dir)
	if err == nil {
		t.Fatal("bad files loaded")
	}
	if !errors.Is(err, ErrBadInput) {
		t.Fatalf("%v is not ErrBadInput", err)
	}
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	for _, want := range []string{
		a + `:3:21: world.meters[0]: unknown field "colour"`,
		a + `:4:21: world.drivers[0].phone: "+852123" is not an E.164 phone number`,
		a + `:4:38: world.drivers[0].lang: "fr" is not one of en, zh-HK, zh-CN`,
		a + `:7:45: steps[1].expect_sms.match: bad regular expression "(unclosed"`,
		a + `:7:66: steps[1].expect_sms.within: "soon" is not a duration`,
		a + `:8:5: steps[2]: unknown step kind "teleport"`,
		a + `:9:10: steps[3].sms: missing required field "body"`,
		b + `:2:11: steps[0].wait: "forever" is not a duration`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestLoadChecksReferencesAfterDecoding(t *testing.T) {
	src := `world:
  meters: [{id: M1}]
  drivers: [{phone: "+85291230001"}]
steps:
  - tap: {meter: M9, bay: 1, phone: "+85291230001", minutes: 10}
  - tap: {meter: M1, bay: 1, minutes: 10}
  - expect: {}
`
	_, err := Parse("c.yaml", []byte(src))
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		`c.yaml:5:18: steps[0].tap.meter: meter "M9" is not in world.meters`,
		`c.yaml:6:5: steps[1].tap: give one of phone (a driver's card) or card (a world card)`,
		`c.yaml:7:5: steps[2].expect: expect nothing?`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestShippedScenariosLoad(t *testing.T) {
	scs, err := Load(filepath.Join("..", "..", "testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		if filepath.Base(sc.File) == SettingsFileName {
			t.Fatal("the settings file was loaded as a scenario")
		}
	}
}

func TestNamesAreValidMobilesAndMapBack(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p := randomMobile()
		if !validPhone(p) || !strings.HasPrefix(p, "+852") {
			t.Fatalf("%s is not a valid HK number", p)
		}
		seen[p] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct numbers of 200", len(seen))
	}
	n := &names{phones: map[Phone]string{"+85291230001": "+85261234567"}, meters: map[string]string{}, cards: map[string]string{}}
	id := n.meterID("M1")
	if !strings.HasPrefix(id, "M1-") || id == n.meterID("M1") {
		t.Fatalf("meter ids %q are not unique per draw", id)
	}
	n.meters["M1"] = id
	n.rebuild()
	if got := n.show("meter " + id + " texted +85261234567"); got != "meter M1 texted +85291230001" {
		t.Fatalf("show: %q", got)
	}
}

func TestScenarioPhonesFindsEveryNumber(t *testing.T) {
	sc, err := Parse("p.yaml", []byte(`world:
  meters: [{id: M1}]
  drivers: [{phone: "+85291230001"}, {phone: "+85291230002"}]
steps:
  - call: {from: "+85291230003"}
  - fault: {card_of: "+85291230002", decline_next: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := scenarioPhones(sc)
	if len(got) != 3 || got[0] != "+85291230001" || got[2] != "+85291230003" {
		t.Fatalf("phones %v", got)
	}
}

func TestUnmetNeedsNameSettingNeedAndHave(t *testing.T) {
	sc, err := Parse("n.yaml", []byte(`settings: {lead_time: 10m, meter_ack_timeout: "<=20s", voice.pin_required: true, escalation.1.after: "<=10s", nope: 1}
steps: [{wait: 1s}]
`))
	if err != nil {
		t.Fatal(err)
	}
	server := map[string]any{"lead_time": "10m0s", "meter_ack_timeout": "2m0s", "voice": map[string]any{"pin_required": false},
		"escalation": []any{map[string]any{"channel": "push"}, map[string]any{"channel": "sms", "after": "4s"}}}
	got := strings.Join(unmetNeeds(sc, server), "\n")
	want := "meter_ack_timeout: the scenario needs <= 20s, the server has 2m\n" +
		"nope: the scenario needs 1, the server has no such setting\n" +
		"voice.pin_required: the scenario needs true, the server has false"
	if got != want {
		t.Fatalf("needs:\n%s\nwant:\n%s", got, want)
	}
}

func TestReportJUnitParsesAndTextShowsTheDiff(t *testing.T) {
	rep := &Report{Elapsed: 3 * time.Second, Scenarios: []*Result{
		{Name: "good", File: "g.yaml", Status: StatusPassed, Steps: []StepResult{{Index: 1, Kind: "wait", Desc: "1s"}}},
		{Name: "bad <&>", File: "b.yaml", Status: StatusFailed, Reason: "step 2 (expect_sms, line 9) failed", Steps: []StepResult{
			{Index: 1, Kind: "sms", Desc: "sends"},
			{Index: 2, Kind: "expect_sms", Desc: "gets /x/", Failed: true, Detail: "no text\n  expected: a text\n  got instead:\n    [delivered] \"y\""}}},
		{Name: "refused", File: "r.yaml", Status: StatusRefused, Reason: "lead_time: the scenario needs 10m, the server has 5m"},
	}}
	var text bytes.Buffer
	rep.WriteText(&text)
	for _, want := range []string{"ok     1 wait", "FAIL   2 expect_sms  gets /x/", "           expected: a text", "--- REFUSED refused: lead_time", "1 passed, 1 failed, 1 refused"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if rep.Passed() || rep.ExitCode() != ExitFailed {
		t.Fatalf("passed %t exit %d", rep.Passed(), rep.ExitCode())
	}
	var junit bytes.Buffer
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, junit.String())
	}
	s := doc.Suites[0]
	if doc.Tests != 3 || s.Failures != 1 || s.Skipped != 1 || s.Cases[1].Name != "bad <&>" || s.Cases[1].Failure == nil ||
		!strings.Contains(s.Cases[1].Failure.Text, `[delivered] "y"`) || s.Cases[2].Skipped == nil {
		t.Fatalf("JUnit:\n%s", junit.String())
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"exit_code": 1`) {
		t.Fatalf("JSON %v:\n%s", err, js.String())
	}
}

func TestUnreachableServerIsNamed(t *testing.T) {
	sc, err := Parse("u.yaml", []byte("steps: [{wait: 1s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep := (&Runner{Server: "http://127.0.0.1:1", Out: &out}).Run(t.Context(), []*Scenario{sc})
	if rep.ExitCode() != ExitFailed || rep.Err == nil || !strings.Contains(out.String(), "the server at http://127.0.0.1:1 is unreachable") {
		t.Fatalf("exit %d:\n%s", rep.ExitCode(), out.String())
	}
}
