package world

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"ppprenew/workflows/carrier"
)

func TestConfigFromEnvDefaultsMatchTheServers(t *testing.T) {
	c, err := ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8081" || c.ServerURL != "http://127.0.0.1:8080" || c.AdminToken != carrier.DevAdminToken ||
		c.AccountSID != carrier.DevAccountSID || c.AuthToken != carrier.DevAuthToken || c.GatewayAPIKey != carrier.DevPaymentKey ||
		len(c.PlatformNumbers) != 1 || c.PlatformNumbers[0] != "+85258001000" || c.WakeCallerID != "+85258001000" {
		t.Fatalf("defaults %+v", c)
	}
	env := map[string]string{"PPP_HTTP_ADDR": "127.0.0.1:9000", "PPP_SMS_FROM": "+85258009999", "PPP_SIM_VOICE_TICK": "10ms"}
	if c, err = ConfigFromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.ServerURL != "http://127.0.0.1:9000" || c.PlatformNumbers[0] != "+85258009999" || c.VoiceTick.Milliseconds() != 10 {
		t.Fatalf("from env %+v", c)
	}
}

func TestConfigFromEnvReportsEveryProblem(t *testing.T) {
	env := map[string]string{"PPP_SIM_ADDR": "8081", "PPP_SIM_VOICE_TICK": "-1s", "PPP_SIM_METER_POLL": "soon"}
	_, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("accepted")
	}
	for _, v := range []string{"PPP_SIM_ADDR", "PPP_SIM_VOICE_TICK", "PPP_SIM_METER_POLL"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("%v does not name %s", err, v)
		}
	}
}

// A server in another process learns the fake APNs server's address and the
// certificate to trust, and a reset empties the world.
func TestWorldPublishesAPNsAndResets(t *testing.T) {
	w, err := New(Config{Addr: "127.0.0.1:0", ServerURL: "http://127.0.0.1:1", AccountSID: carrier.DevAccountSID,
		AuthToken: carrier.DevAuthToken, PlatformNumbers: []string{"+85258001000"}, GatewayAPIKey: carrier.DevPaymentKey})
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	t.Cleanup(func() { w.Close(t.Context()) })
	res, err := http.Get(w.URL() + "/sim/v1/push/apns")
	if err != nil {
		t.Fatal(err)
	}
	var info APNs
	err = json.NewDecoder(res.Body).Decode(&info)
	res.Body.Close()
	if err != nil || !strings.HasPrefix(info.URL, "https://127.0.0.1:") || info.Topic != APNsTopic {
		t.Fatalf("apns info %+v, %v", info, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(info.CA)) {
		t.Fatalf("no certificate in %q", info.CA)
	}
	card, err := http.Post(w.URL()+"/sim/v1/cards", "application/json", strings.NewReader(`{"kind":"credit","last4":"4242"}`))
	if err != nil || card.StatusCode != http.StatusCreated {
		t.Fatalf("create card: %v %v", card.Status, err)
	}
	card.Body.Close()
	if len(w.Gateway.Cards()) != 1 {
		t.Fatalf("cards %v", w.Gateway.Cards())
	}
	reset, err := http.Post(w.URL()+"/sim/v1/reset", "application/json", nil)
	if err != nil || reset.StatusCode != http.StatusOK {
		t.Fatalf("reset: %v", err)
	}
	reset.Body.Close()
	if len(w.Gateway.Cards()) != 0 {
		t.Fatalf("cards after reset %v", w.Gateway.Cards())
	}
}

// Testers' tools read how the world runs: its server and its voice clock.
func TestWorldDescribesItself(t *testing.T) {
	w, err := New(Config{Addr: "127.0.0.1:0", ServerURL: "http://127.0.0.1:9", AccountSID: carrier.DevAccountSID,
		AuthToken: carrier.DevAuthToken, PlatformNumbers: []string{"+85258001000"}, GatewayAPIKey: carrier.DevPaymentKey, VoiceTick: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.Start()
	t.Cleanup(func() { w.Close(t.Context()) })
	res, err := http.Get(w.URL() + "/sim/v1/world")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var info Info
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.ServerURL != "http://127.0.0.1:9" || info.VoiceTick != "40ms" || info.MaxCallsInProgress != MaxCallsInProgress {
		t.Fatalf("world info %+v", info)
	}
}
