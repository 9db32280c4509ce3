package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ppprenew/sim/simtest"
	"ppprenew/workflows/redistest"
)

// `pppsim up` (what `make run` runs) starts the world and the server with
// nothing configured; the tester's commands work against both, `reset`
// empties them, and one interrupt stops both.
func TestUpStartsWorldAndServerAndOneInterruptStopsBoth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := simtest.BuildServer(t)
	server, world := simtest.FreeAddr(t), simtest.FreeAddr(t)
	for _, k := range []string{"REDIS_URL", "PPP_CARRIER", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PPP_ADMIN_TOKEN", "PPP_PUBLIC_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("PPP_HTTP_ADDR", server)
	t.Setenv("PPP_SIM_ADDR", world)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runUp(ctx, bin, os.Getenv, &bytes.Buffer{}) }()
	simtest.Eventually(t, "the server", time.Minute, func() bool { return simtest.Answers("http://" + server + "/readyz") })
	if !simtest.Answers("http://" + world + "/sim/v1/healthz") {
		t.Fatal("the world does not answer")
	}

	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"--server", "http://" + server, "--sim", "http://" + world}, args...), &out)
		return out.String(), err
	}
	if out, err := cmd("user", "add", "--phone", "+85291230001"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	out, err := cmd("reset")
	if err != nil || !strings.Contains(out, "world: reset") || strings.Contains(out, "server: 0 keys") {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if out, err := cmd("user", "show", "--phone", "+85291230001"); err == nil || exitCode(err) != exitFailure {
		t.Fatalf("the driver is still there after reset: %v\n%s", err, out)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("up after an interrupt: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("up did not stop after an interrupt")
	}
	if simtest.Answers("http://"+server+"/healthz") || simtest.Answers("http://"+world+"/sim/v1/healthz") {
		t.Fatal("something still answers after up stopped")
	}
}

// When the server cannot start, up stops the world and says so.
func TestUpStopsTheWorldWhenTheServerStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := simtest.BuildServer(t)
	world := simtest.FreeAddr(t)
	t.Setenv("PPP_HTTP_ADDR", simtest.FreeAddr(t))
	t.Setenv("PPP_SIM_ADDR", world)
	t.Setenv("PPP_CARRIER", "carrier-pigeon")
	err := runUp(context.Background(), bin, os.Getenv, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "the server stopped") {
		t.Fatalf("up with a server that cannot start: %v", err)
	}
	if simtest.Answers("http://" + world + "/sim/v1/healthz") {
		t.Fatal("the world still runs")
	}
}

// Every shipped scenario passes through `pppsim run`, against the world and
// the server `pppsim up` starts (as `make run` does) on a real Redis with
// the scenarios' settings; the JUnit report names every scenario.
func TestShippedScenariosPassThroughPppsimRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	redistest.Client(t, redistest.DBPppsim)
	bin := simtest.BuildServer(t)
	server, world := simtest.FreeAddr(t), simtest.FreeAddr(t)
	settings, err := filepath.Abs(filepath.Join("..", "..", "testdata", "scenarios", "settings.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"PPP_HTTP_ADDR": server, "PPP_SIM_ADDR": world, "PPP_CARRIER": "sim", "PPP_PUBLIC_URL": "",
		"REDIS_URL":          fmt.Sprintf("redis://%s/%d", redistest.Addr(), redistest.DBPppsim),
		"PPP_MASTER_KEY":     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"PPP_SETTINGS_FILE":  settings,
		"PPP_SMS_RATE":       "100",
		"PPP_SIM_VOICE_TICK": "100ms",
		"PPP_LOG_LEVEL":      "warn",
		"PPP_ADMIN_TOKEN":    "", "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "PPP_SIM_URL": "",
	} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runUp(ctx, bin, os.Getenv, &bytes.Buffer{}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("up did not stop")
		}
	})
	simtest.Eventually(t, "the server", time.Minute, func() bool { return simtest.Answers("http://" + server + "/readyz") })

	junit := filepath.Join(t.TempDir(), "scenarios.xml")
	var out bytes.Buffer
	err = run(context.Background(), []string{"--server", "http://" + server, "run", filepath.Join("..", "..", "testdata", "scenarios"),
		"--parallel", "6", "--junit", junit}, &out)
	if err != nil {
		t.Fatalf("pppsim run testdata/scenarios: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), " 0 failed, 0 refused") {
		t.Fatalf("summary:\n%s", out.String())
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests int `xml:"tests,attr"`
		Suite []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("JUnit: %v\n%s", err, raw)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "scenarios", "*.yaml"))
	if len(doc.Suite) != 1 || len(doc.Suite[0].Cases) != len(files)-1 { // settings.yaml is not a scenario
		t.Fatalf("JUnit has %d suites, want one with %d cases:\n%s", len(doc.Suite), len(files)-1, raw)
	}
	for _, c := range doc.Suite[0].Cases {
		if c.Failure != nil || c.Skipped != nil {
			t.Errorf("JUnit case %q failed or was skipped", c.Name)
		}
	}
}
