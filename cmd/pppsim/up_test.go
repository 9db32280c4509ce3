package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pppd")
	if out, err := exec.Command("go", "build", "-o", bin, "ppprenew/cmd/pppd").CombinedOutput(); err != nil {
		t.Fatalf("go build pppd: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func answers(url string) bool {
	c := &http.Client{Timeout: time.Second}
	res, err := c.Get(url)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		<-tick.C
	}
}

// `pppsim up` (what `make run` runs) starts the world and the server with
// nothing configured; the tester's commands work against both, `reset`
// empties them, and one interrupt stops both.
func TestUpStartsWorldAndServerAndOneInterruptStopsBoth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := buildServer(t)
	server, world := freeAddr(t), freeAddr(t)
	for _, k := range []string{"REDIS_URL", "PPP_CARRIER", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PPP_ADMIN_TOKEN", "PPP_PUBLIC_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("PPP_HTTP_ADDR", server)
	t.Setenv("PPP_SIM_ADDR", world)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runUp(ctx, bin, os.Getenv, &bytes.Buffer{}) }()
	waitUntil(t, "the server", func() bool { return answers("http://" + server + "/readyz") })
	if !answers("http://" + world + "/sim/v1/healthz") {
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
	if answers("http://"+server+"/healthz") || answers("http://"+world+"/sim/v1/healthz") {
		t.Fatal("something still answers after up stopped")
	}
}

// When the server cannot start, up stops the world and says so.
func TestUpStopsTheWorldWhenTheServerStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := buildServer(t)
	world := freeAddr(t)
	t.Setenv("PPP_HTTP_ADDR", freeAddr(t))
	t.Setenv("PPP_SIM_ADDR", world)
	t.Setenv("PPP_CARRIER", "carrier-pigeon")
	err := runUp(context.Background(), bin, os.Getenv, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "the server stopped") {
		t.Fatalf("up with a server that cannot start: %v", err)
	}
	if answers("http://" + world + "/sim/v1/healthz") {
		t.Fatal("the world still runs")
	}
}
