package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"ppprenew/devicelink"
	"ppprenew/workflows"
)

func TestForgedHellosRaiseOneOperatorAlert(t *testing.T) {
	h := newHarness(t)
	h.meter("M1", "")
	// Someone without the meter's key sends wake hellos in its name.
	forger, err := devicelink.NewMeterCodec("M1", 1, bytes.Repeat([]byte{0x5a}, devicelink.KeyLen), 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		env, _, err := forger.SealMessage(devicelink.MeterMessage{Type: devicelink.MsgHello, Reason: devicelink.ReasonWake})
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Post(h.app.ServerURL()+devicelink.ExchangePath, "application/octet-stream", bytes.NewReader(env))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged hello %d: status %d, want 401", i, res.StatusCode)
		}
	}
	var alerts struct {
		Alerts []workflows.Alert `json:"alerts"`
	}
	h.eventually("a security alert in the operator alerts", func() bool {
		h.admin("GET", "/alerts", nil, &alerts)
		return len(alerts.Alerts) > 0
	})
	if len(alerts.Alerts) != 1 {
		t.Fatalf("alerts %+v, want one for the burst", alerts.Alerts)
	}
	a := alerts.Alerts[0]
	if a.Code != "security_auth_burst" || a.Meter != "M1" || a.Conv != "" || !strings.Contains(a.Message, "M1") {
		t.Fatalf("alert %+v", a)
	}
	if strings.Contains(a.Message, simNumber("M1")[1:]) {
		t.Fatalf("alert names the SIM number: %q", a.Message)
	}
}
