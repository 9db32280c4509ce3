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
