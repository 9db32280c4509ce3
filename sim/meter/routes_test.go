package meter_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"ppprenew/devicelink"
	"ppprenew/sim/meter"
)

func TestControlRoutes(t *testing.T) {
	h := newHarness(t, noPolling)
	e := echo.New()
	h.fleet.Register(e)
	ctl := httptest.NewServer(e)
	defer ctl.Close()

	call := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, ctl.URL+path, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}

	status, body := call("POST", "/sim/v1/meters", `{"id":"PM-5","sim_number":"+85261230005","zone":"Central","location":"Ice House St","bays":["1","2"]}`)
	if status != http.StatusCreated {
		t.Fatalf("add: %d %s", status, body)
	}
	if status, _ := call("POST", "/sim/v1/meters", `{"id":"PM-5","bays":["1"]}`); status != http.StatusConflict {
		t.Errorf("duplicate add: %d", status)
	}
	// The platform refuses a second meter with the number: a conflict, not a
	// platform failure, and the fleet does not keep the meter.
	if status, body := call("POST", "/sim/v1/meters", `{"id":"PM-7","sim_number":"+85261230005","bays":["1"]}`); status != http.StatusConflict ||
		!strings.Contains(string(body), "sim number") {
		t.Errorf("add with a taken SIM number: %d %s", status, body)
	}
	if status, _ := call("GET", "/sim/v1/meters/PM-7", ""); status != http.StatusNotFound {
		t.Errorf("refused meter is in the fleet: %d", status)
	}
	if status, _ := call("POST", "/sim/v1/meters", `{"id":"PM-6","bays":["1"],"colour":"red"}`); status != http.StatusBadRequest {
		t.Errorf("unknown field: %d", status)
	}

	status, body = call("POST", "/sim/v1/meters/PM-5/bays/2/tap", `{"card_token":"tok_visa_4242","minutes":45,"amount_minor":900}`)
	if status != http.StatusCreated {
		t.Fatalf("tap: %d %s", status, body)
	}
	var tap struct {
		Record devicelink.TxnRecord `json:"record"`
		Meter  meter.Snapshot       `json:"meter"`
	}
	if err := json.Unmarshal(body, &tap); err != nil {
		t.Fatal(err)
	}
	if tap.Record.Seq != 1 || tap.Record.Bay != "2" || !tap.Record.HashOK() || tap.Meter.Counters.AcceptedThrough != 1 {
		t.Errorf("tap answer = %+v", tap)
	}
	if strings.Contains(string(body), `"card":"tok_visa_4242"`) {
		t.Errorf("snapshot shows the full card token")
	}
	if txns := h.sink.Transactions(); len(txns) != 1 || txns[0].AmountMinor != 900 {
		t.Errorf("sink = %+v", txns)
	}
	if status, _ := call("POST", "/sim/v1/meters/PM-5/bays/9/tap", `{"card_token":"tok","minutes":5,"amount_minor":1}`); status != http.StatusBadRequest {
		t.Errorf("tap at unknown bay: %d", status)
	}

	if err := h.svc.EnqueueRenewal(h.ctx, devicelink.RenewCommand{CommandID: "c-9", MeterID: "PM-5", Bay: "2", TxnID: "p-9", PaidUntil: h.clock.Now().Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	status, body = call("POST", "/sim/v1/meters/PM-5/poll", "")
	var snap meter.Snapshot
	if status != http.StatusOK || json.Unmarshal(body, &snap) != nil || len(snap.Applied) != 1 || snap.Bays[1].Card != "****4242" {
		t.Fatalf("poll: %d %s", status, body)
	}
	if status, body := call("POST", "/sim/v1/meters/PM-5/faults", `{"drop_replies":2}`); status != http.StatusOK || !strings.Contains(string(body), `"drop_replies":2`) {
		t.Errorf("faults: %d %s", status, body)
	}
	if status, body := call("GET", "/sim/v1/meters", ""); status != http.StatusOK || !strings.Contains(string(body), `"id":"PM-5"`) {
		t.Errorf("list: %d %s", status, body)
	}
	if status, _ := call("GET", "/sim/v1/meters/PM-404", ""); status != http.StatusNotFound {
		t.Errorf("missing meter: %d", status)
	}
}

func TestWakeAndSensorRoutes(t *testing.T) {
	h := newHarness(t, noPolling)
	h.fleet = meter.NewFleet(meter.Config{
		ServerURL: h.srv.URL, AdminURL: h.srv.URL + "/admin/v1", AdminToken: adminToken, PollInterval: noPolling,
		Clock: h.clock.Now, PlatformCallerID: "+85230001000",
	})
	t.Cleanup(h.fleet.Close)
	e := echo.New()
	h.fleet.Register(e)
	ctl := httptest.NewServer(e)
	defer ctl.Close()
	call := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(ctl.URL+path, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	if status, body := call("/sim/v1/meters", `{"id":"PM-5","sim_number":"+85261230005","bays":["1"],"connect_back_delay_ms":1000}`); status != http.StatusCreated {
		t.Fatalf("add: %d %s", status, body)
	}
	tests := []struct {
		name, path, body string
		want             int
		contains         string
	}{
		{"ring from the platform", "/sim/v1/ring", `{"to":"+85261230005","from":"+85230001000"}`, 200, `"outcome":"busy","handled":true`},
		{"ring another number", "/sim/v1/ring", `{"to":"+85261239999","from":"+85230001000"}`, 200, `"handled":false`},
		{"sensors", "/sim/v1/meters/PM-5/sensors", `{"battery_pct":9,"temp_c":30,"humidity_pct":50,"tilt":true}`, 200, `"tilt":true`},
		{"power cycle", "/sim/v1/meters/PM-5/power-cycle", ``, 200, `"boot_count":2`},
		{"tick", "/sim/v1/tick", ``, 200, `"id":"PM-5"`},
		{"check in", "/sim/v1/meters/PM-5/checkin", ``, 200, `"awake":true`},
		{"faults", "/sim/v1/meters/PM-5/faults", `{"power_loss":"after_journal","radio_unreachable":true,"clock_skew_seconds":-600}`, 200, `"power_loss_times":1`},
		{"unknown meter", "/sim/v1/meters/PM-9/checkin", ``, 404, ``},
		{"bad sensors", "/sim/v1/meters/PM-5/sensors", `{"smoke":true}`, 400, ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(tc.path, tc.body)
			if status != tc.want || !strings.Contains(body, tc.contains) {
				t.Errorf("%d %s, want %d containing %s", status, body, tc.want, tc.contains)
			}
		})
	}
	st, _ := h.svc.Status(h.ctx, "PM-5")
	if st.Flags == nil || st.Flags.BatteryPct != 9 || !st.Flags.Tilt || st.Flags.BootCount != 2 || st.LastReason != devicelink.ReasonScheduled {
		t.Errorf("platform status = %+v (flags %+v)", st, st.Flags)
	}
}
