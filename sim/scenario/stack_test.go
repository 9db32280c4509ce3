package scenario

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"ppprenew/sim/simtest"
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
	bin := simtest.BuildServer(t)
	settings, err := filepath.Abs(filepath.Join("..", "..", "testdata", "scenarios", SettingsFileName))
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := simtest.FreeAddr(t)
	w, err := world.New(world.Config{Addr: "127.0.0.1:0", ServerURL: "http://" + httpAddr, AdminToken: stackAdminToken,
		AccountSID: carrier.DevAccountSID, AuthToken: carrier.DevAuthToken, PlatformNumbers: []string{"+85258001000"},
		WakeCallerID: "+85258001000", GatewayAPIKey: carrier.DevPaymentKey, VoiceTick: stackVoiceTick,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	t.Cleanup(func() { w.Close(context.Background()) })
	srv := &simtest.Server{TB: t, Bin: bin, URL: "http://" + httpAddr,
		Env: simtest.SimEnv(httpAddr, w.Addr(), redistest.DBScenarios, "PPP_ADMIN_TOKEN="+stackAdminToken, "PPP_SETTINGS_FILE="+settings)}
	srv.Start()
	t.Cleanup(srv.Stop)
	return srv.URL, w.URL(), stackAdminToken
}
