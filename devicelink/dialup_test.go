package devicelink_test

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
)

func TestDialUpWakerPlacesARejectedCall(t *testing.T) {
	calls := devicelinktest.NewCallsServer()
	defer calls.Close()
	w := devicelink.NewDialUpWaker(calls.Client("ACtest", "secret"), "+85230001111",
		"https://ppp.example/twilio/voice/wake-status?v=1", 25*time.Second)
	res, err := w.Wake(t.Context(), devicelink.WakeRequest{MeterID: "M-1", SIMNumber: "+85291234567", AttemptID: "M-1:3"})
	if err != nil {
		t.Fatal(err)
	}
	got := calls.Calls()
	if len(got) != 1 {
		t.Fatalf("calls = %+v", got)
	}
	f := got[0].Form
	cb, err := url.Parse(f.Get("StatusCallback"))
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"account": got[0].AccountSID, "To": f.Get("To"), "From": f.Get("From"), "Twiml": f.Get("Twiml"),
		"Timeout": f.Get("Timeout"), "StatusCallbackMethod": f.Get("StatusCallbackMethod"),
		"callback host": cb.Host + cb.Path, "attempt": cb.Query().Get(devicelink.WakeAttemptParam), "v": cb.Query().Get("v"),
		"Url": f.Get("Url"),
	}
	want := map[string]string{
		"account": "ACtest", "To": "+85291234567", "From": "+85230001111", "Twiml": "<Response><Reject/></Response>",
		"Timeout": "25", "StatusCallbackMethod": "POST", "callback host": "ppp.example/twilio/voice/wake-status",
		"attempt": "M-1:3", "v": "1", "Url": "",
	}
	for k, v := range want {
		if checks[k] != v {
			t.Errorf("%s = %q, want %q", k, checks[k], v)
		}
	}
	if res.CallSID == "" || res.Status != "queued" {
		t.Errorf("result = %+v", res)
	}

	calls.OnCall = func(devicelinktest.Call) (string, string, error) { return "", "", errors.New("invalid To") }
	if _, err := w.Wake(t.Context(), devicelink.WakeRequest{MeterID: "M-1", SIMNumber: "+85291234567", AttemptID: "M-1:4"}); !errors.Is(err, devicelink.ErrWakeCall) {
		t.Errorf("carrier error: %v", err)
	}
	if _, err := w.Wake(t.Context(), devicelink.WakeRequest{MeterID: "M-1", AttemptID: "M-1:5"}); !errors.Is(err, devicelink.ErrWakeCall) {
		t.Errorf("no SIM number: %v", err)
	}
}
