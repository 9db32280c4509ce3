package scenario

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"ppprenew/sim/world"
	"ppprenew/workflows/carrier"
	"ppprenew/workflows/redistest"
)

// stackAdminToken is the admin token the test server runs with.
const stackAdminToken = "scenario-test-admin-token"

// stackVoiceTick is the world's real time per simulated second of a call.
const stackVoiceTick = 20 * time.Millisecond

// startStack starts the simulated world in this process and pppd, built
// for the test, as a subprocess in sim mode on the test Redis (database
// DBScenarios) with testdata/scenarios/settings.yaml, waits until the
// server is ready and stops both, the server by its PID, when the test
// ends. Everything the scenario tests start is started here.
func startStack(t *testing.T) (serverURL, simURL, adminToken string) {
	t.Helper()
	redistest.Client(t, redistest.DBScenarios) // flushed and marked as the suite's
	dir := t.TempDir()
	bin := filepath.Join(dir, "pppd")
	build := exec.Command("go", "build", "-o", bin, "ppprenew/cmd/pppd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build pppd: %v\n%s", err, out)
	}
	settings, err := filepath.Abs(filepath.Join("..", "..", "testdata", "scenarios", SettingsFileName))
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := freeAddr(t)
	w, err := world.New(world.Config{Addr: "127.0.0.1:0", ServerURL: "http://" + httpAddr, AdminToken: stackAdminToken,
		AccountSID: carrier.DevAccountSID, AuthToken: carrier.DevAuthToken, PlatformNumbers: []string{"+85258001000"},
		WakeCallerID: "+85258001000", GatewayAPIKey: carrier.DevPaymentKey, VoiceTick: stackVoiceTick,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	t.Cleanup(func() { w.Close(context.Background()) })
	simAddr := w.Addr()
	logPath := filepath.Join(dir, "pppd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PPP_CARRIER=sim",
		"PPP_HTTP_ADDR="+httpAddr, "PPP_SIM_ADDR="+simAddr,
		fmt.Sprintf("REDIS_URL=redis://%s/%d", redistest.Addr(), redistest.DBScenarios),
		"PPP_MASTER_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"PPP_ADMIN_TOKEN="+stackAdminToken,
		"PPP_SETTINGS_FILE="+settings,
		"PPP_SMS_RATE=100",
		"PPP_LOG_LEVEL=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pppd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logFile.Close()
		if t.Failed() || os.Getenv("PPP_TEST_LOG") != "" {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("pppd log:\n%s", b)
			}
		}
	})
	serverURL, simURL = "http://"+httpAddr, "http://"+simAddr
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := http.Get(serverURL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return serverURL, simURL, stackAdminToken
			}
		}
		select {
		case err := <-exited:
			exited <- err
			b, _ := os.ReadFile(logPath)
			t.Fatalf("pppd exited before it was ready: %v\n%s", err, b)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pppd at %s was not ready within 60s", serverURL)
		}
	}
}

// freeAddr is a loopback address with a port free at the time of asking.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
