package scenario

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Scenario outcomes.
const (
	StatusPassed = "passed"
	StatusFailed = "failed"
	// StatusRefused: the scenario did not run, as the server cannot carry it
	// (its settings or carrier); it counts as not passed.
	StatusRefused = "refused"
)

// Exit codes of a run (for `pppsim run`).
const (
	ExitPassed   = 0 // every scenario passed
	ExitFailed   = 1 // a scenario failed or was refused, or the server or world cannot be reached
	ExitBadInput = 2 // a scenario file is wrong (Load refused it; nothing ran)
)

// Report is the outcome of a run.
type Report struct {
	// Scenarios are in the order given to Run.
	Scenarios []*Result `json:"scenarios"`
	// Err is why nothing could run (an unreachable server or world).
	Err     error         `json:"-"`
	Elapsed time.Duration `json:"-"`
}

// Result is one scenario's outcome.
type Result struct {
	Name    string        `json:"name"`
	File    string        `json:"file"`
	Status  string        `json:"status"`
	Reason  string        `json:"reason,omitempty"`
	Steps   []StepResult  `json:"steps"`
	Elapsed time.Duration `json:"-"`
}

// StepResult is one step's outcome.
type StepResult struct {
	Index   int           `json:"index"`
	Kind    string        `json:"kind"`
	Line    int           `json:"line"`
	Desc    string        `json:"description"`
	Failed  bool          `json:"failed,omitempty"`
	Detail  string        `json:"detail,omitempty"`
	Elapsed time.Duration `json:"-"`
}

// finish marks every scenario as not run because of r.Err.
func (r *Report) finish(scs []*Scenario, start time.Time) {
	for _, sc := range scs {
		r.Scenarios = append(r.Scenarios, &Result{Name: sc.Name, File: sc.File, Status: StatusFailed, Reason: r.Err.Error()})
	}
	r.Elapsed = time.Since(start)
}

// Passed reports whether every scenario ran and passed.
func (r *Report) Passed() bool {
	if r.Err != nil {
		return false
	}
	for _, s := range r.Scenarios {
		if s.Status != StatusPassed {
			return false
		}
	}
	return true
}

// ExitCode is ExitPassed when every scenario passed, else ExitFailed (also
// when the server or world could not be reached: Err names it). Files Load
// refuses never make a Report; they are ExitBadInput.
func (r *Report) ExitCode() int {
	switch {
	case r.Passed():
		return ExitPassed
	}
	return ExitFailed
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// writeText writes the scenario's block: a header, one line per step, and
// under a failed step what was expected and what arrived instead.
func (res *Result) writeText(w io.Writer) {
	fmt.Fprintf(w, "=== %s (%s)\n", res.Name, res.File)
	for _, s := range res.Steps {
		mark := "ok  "
		if s.Failed {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %3d %-11s %s  (%s)\n", mark, s.Index, s.Kind, s.Desc, secs(s.Elapsed))
		if s.Detail != "" {
			for _, l := range strings.Split(s.Detail, "\n") {
				fmt.Fprintf(w, "         %s\n", l)
			}
		}
	}
	switch res.Status {
	case StatusPassed:
		fmt.Fprintf(w, "--- PASS %s (%s)\n", res.Name, secs(res.Elapsed))
	case StatusRefused:
		fmt.Fprintf(w, "--- REFUSED %s: %s\n", res.Name, res.Reason)
	default:
		fmt.Fprintf(w, "--- FAIL %s (%s): %s\n", res.Name, secs(res.Elapsed), res.Reason)
	}
}

// WriteText writes every scenario's block and a summary line.
func (r *Report) WriteText(w io.Writer) error {
	for _, s := range r.Scenarios {
		s.writeText(w)
	}
	_, err := fmt.Fprintln(w, r.summary())
	return err
}

// Summary is one line: how many scenarios passed, failed and were
// refused, and how long the run took.
func (r *Report) Summary() string { return r.summary() }

func (r *Report) summary() string {
	var p, f, x int
	for _, s := range r.Scenarios {
		switch s.Status {
		case StatusPassed:
			p++
		case StatusRefused:
			x++
		default:
			f++
		}
	}
	return fmt.Sprintf("%d passed, %d failed, %d refused (%s)", p, f, x, secs(r.Elapsed))
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	type step struct {
		StepResult
		ElapsedMS int64 `json:"elapsed_ms"`
	}
	type scen struct {
		Name      string `json:"name"`
		File      string `json:"file"`
		Status    string `json:"status"`
		Reason    string `json:"reason,omitempty"`
		ElapsedMS int64  `json:"elapsed_ms"`
		Steps     []step `json:"steps"`
	}
	out := struct {
		Passed    bool   `json:"passed"`
		ExitCode  int    `json:"exit_code"`
		Error     string `json:"error,omitempty"`
		ElapsedMS int64  `json:"elapsed_ms"`
		Scenarios []scen `json:"scenarios"`
	}{Passed: r.Passed(), ExitCode: r.ExitCode(), ElapsedMS: r.Elapsed.Milliseconds(), Scenarios: []scen{}}
	if r.Err != nil {
		out.Error = r.Err.Error()
	}
	for _, s := range r.Scenarios {
		sc := scen{Name: s.Name, File: s.File, Status: s.Status, Reason: s.Reason, ElapsedMS: s.Elapsed.Milliseconds(), Steps: []step{}}
		for _, st := range s.Steps {
			sc.Steps = append(sc.Steps, step{st, st.Elapsed.Milliseconds()})
		}
		out.Scenarios = append(out.Scenarios, sc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// JUnit XML shapes.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Time     string      `xml:"time,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// WriteJUnit writes the report as JUnit XML: one testsuite, one testcase
// per scenario, a failure with the step lines and the diff for a failed
// scenario, skipped with the reason for a refused one.
func (r *Report) WriteJUnit(w io.Writer) error {
	suite := junitSuite{Name: "ppprenew scenarios", Time: fmt.Sprintf("%.3f", r.Elapsed.Seconds())}
	for _, s := range r.Scenarios {
		var b strings.Builder
		s.writeText(&b)
		c := junitCase{Name: s.Name, Classname: s.File, Time: fmt.Sprintf("%.3f", s.Elapsed.Seconds()), SystemOut: b.String()}
		switch s.Status {
		case StatusRefused:
			c.Skipped = &junitSkipped{Message: s.Reason}
			suite.Skipped++
		case StatusFailed:
			c.Failure = &junitFailure{Message: s.Reason, Type: "scenario", Text: b.String()}
			suite.Failures++
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitSuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
