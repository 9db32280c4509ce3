package scenario

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"ppprenew/sim/control"
)

// Runner runs scenarios against a running server and simulated world.
type Runner struct {
	// Server is the server's base URL (http://127.0.0.1:8080).
	Server string
	// Sim is the simulated world's base URL; empty takes the sim_url the
	// server reports.
	Sim string
	// AdminToken is the bearer token of the admin API.
	AdminToken string
	// HTTP is the client for both; nil uses one with a 90 s timeout.
	HTTP *http.Client
	// Parallel is how many scenarios run at once; 0 means 4. Scenarios that
	// arm carrier or push faults (which the world applies to everyone) run
	// alone.
	Parallel int
	// Out receives one line per step as each scenario ends; nil discards.
	Out io.Writer
}

// serverInfo is GET /admin/v1/server.
type serverInfo struct {
	Carrier  string         `json:"carrier"`
	SMSFrom  string         `json:"sms_from"`
	SimURL   string         `json:"sim_url"`
	Settings map[string]any `json:"settings"`
}

// Run runs the scenarios and reports on each. It never panics on a broken
// server or world: a server that cannot be reached fails the run
// (Report.Err) with its address.
func (r *Runner) Run(ctx context.Context, scs []*Scenario) *Report {
	start := time.Now()
	rep := &Report{}
	hc := r.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 90 * time.Second}
	}
	c := &client{control.New(r.Server, r.Sim, r.AdminToken, hc)}
	out := r.Out
	if out == nil {
		out = io.Discard
	}
	var info serverInfo
	if err := c.admin(ctx, "GET", "/server", nil, &info); err != nil {
		rep.Err = fmt.Errorf("server info: %w", err)
		fmt.Fprintf(out, "cannot run: %v\n", rep.Err)
		rep.finish(scs, start)
		return rep
	}
	if c.Sim == "" {
		c.Sim = strings.TrimRight(info.SimURL, "/")
	}
	if c.Sim == "" {
		rep.Err = fmt.Errorf("the server at %s runs no simulated world (carrier %q) and no world URL was given", c.Server, info.Carrier)
	} else if err := c.world(ctx, "GET", "/faults", nil, nil); err != nil {
		rep.Err = err
	}
	if rep.Err != nil {
		fmt.Fprintf(out, "cannot run: %v\n", rep.Err)
		rep.finish(scs, start)
		return rep
	}
	par := r.Parallel
	if par <= 0 {
		par = 4
	}
	sem := make(chan struct{}, par)
	var excl sync.RWMutex // held for writing by scenarios with world-wide faults
	var outMu sync.Mutex
	rep.Scenarios = make([]*Result, len(scs))
	var wg sync.WaitGroup
	for i, sc := range scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if exclusive(sc) {
				excl.Lock()
				defer excl.Unlock()
			} else {
				excl.RLock()
				defer excl.RUnlock()
			}
			res := runOne(ctx, c, &info, sc)
			rep.Scenarios[i] = res
			outMu.Lock()
			res.writeText(out)
			outMu.Unlock()
		}()
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	return rep
}

// exclusive reports whether a scenario arms faults the world applies to
// every scenario (carrier and push faults).
func exclusive(sc *Scenario) bool {
	for _, s := range sc.Steps {
		if s.Fault != nil && (s.Fault.Carrier != "" || s.Fault.Push != "") {
			return true
		}
		if s.ClearFault != nil {
			return true
		}
	}
	return false
}

// runOne runs a scenario: settings needs, the world, then the steps.
func runOne(ctx context.Context, c *client, info *serverInfo, sc *Scenario) *Result {
	res := &Result{Name: sc.Name, File: sc.File, Status: StatusPassed}
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()
	if info.Carrier != "sim" {
		res.Status, res.Reason = StatusRefused, fmt.Sprintf("the server's carrier is %q: scenarios run only against carrier \"sim\"", info.Carrier)
		return res
	}
	if reasons := unmetNeeds(sc, info.Settings); len(reasons) > 0 {
		res.Status, res.Reason = StatusRefused, "the server's settings do not meet the scenario's needs: "+strings.Join(reasons, "; ")
		return res
	}
	run := &run{c: c, sc: sc, info: info, start: start, seen: map[string]int{}, calls: map[string]int{}, pushes: map[string]int{},
		apps: map[Phone]string{}, taps: map[string]time.Time{}}
	if exclusive(sc) {
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = c.world(cctx, "DELETE", "/faults", nil, nil)
			_ = c.world(cctx, "DELETE", "/push/faults", nil, nil)
		}()
	}
	n, err := newNames(ctx, c, sc)
	if err != nil {
		res.Status, res.Reason = StatusFailed, "naming the run's phones: "+err.Error()
		return res
	}
	run.names = n
	if err := run.setup(ctx); err != nil {
		res.Status, res.Reason = StatusFailed, "setting up the world: "+n.show(err.Error())
		return res
	}
	for i, s := range sc.Steps {
		marks, err := run.mark(ctx)
		if err != nil {
			res.Status, res.Reason = StatusFailed, n.show(err.Error())
			return res
		}
		t0 := time.Now()
		sr := StepResult{Index: i + 1, Kind: s.Kind, Line: s.Line, Desc: describe(s)}
		detail, err := run.step(ctx, s)
		sr.Elapsed = time.Since(t0)
		run.prev = marks
		if err != nil {
			sr.Failed = true
			sr.Detail = n.show(strings.TrimRight(err.Error()+"\n"+detail, "\n"))
			res.Steps = append(res.Steps, sr)
			res.Status = StatusFailed
			res.Reason = fmt.Sprintf("step %d (%s, line %d) failed", i+1, s.Kind, s.Line)
			return res
		}
		res.Steps = append(res.Steps, sr)
	}
	return res
}
