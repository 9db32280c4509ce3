package devicelink_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"ppprenew/devicelink"
)

func TestAdminCommandRoutes(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	srv := h.server()
	base := srv.URL + "/admin/v1/meters"
	m := h.meter("M-1", "12", "13")
	h.meter("M-2", "12")
	h.clock.Advance(time.Minute)
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	h.enqueue("c-2", "M-1", "13", h.clock.Now().Add(time.Hour))
	h.clock.Advance(2 * time.Second)
	h.sweep()

	tests := []struct {
		name, path, body string
		want             int
		wantState        devicelink.CommandState
	}{
		{"retry an open command", "/M-1/commands/c-1/retry", "", http.StatusOK, devicelink.StateWaking},
		{"cancel with a reason", "/M-1/commands/c-2/cancel", `{"reason":"refunded"}`, http.StatusOK, devicelink.StateCancelled},
		{"cancel again", "/M-1/commands/c-2/cancel", "", http.StatusConflict, ""},
		{"retry a cancelled command", "/M-1/commands/c-2/retry", "", http.StatusConflict, ""},
		{"command of another meter", "/M-2/commands/c-1/cancel", "", http.StatusNotFound, ""},
		{"unknown command", "/M-1/commands/c-9/retry", "", http.StatusNotFound, ""},
		{"bad body", "/M-1/commands/c-1/cancel", `{"why":1}`, http.StatusBadRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, base+tc.path, "application/json", []byte(tc.body))
			if status != tc.want {
				t.Fatalf("status = %d (%s), want %d", status, body, tc.want)
			}
			if tc.wantState != "" {
				var rec devicelink.CommandRecord
				if err := json.Unmarshal(body, &rec); err != nil || rec.State != tc.wantState {
					t.Errorf("record = %s (%v), want state %s", body, err, tc.wantState)
				}
			}
		})
	}
	if n := len(waker.Requests()); n != 2 {
		t.Errorf("%d wake calls, want 2 (the batch and the retry)", n)
	}
	if rec := h.record("c-2"); rec.Reason != "cancelled by operator: refunded" {
		t.Errorf("reason = %q", rec.Reason)
	}

	status, body := post(t, base+"/M-1/rotate-key", "application/json", nil)
	if status != http.StatusAccepted || !strings.Contains(string(body), `"command_id":"rotate:M-1:e2:`) {
		t.Errorf("rotate-key: %d %s", status, body)
	}

	m.hello(devicelink.ReasonScheduled, &devicelink.Flags{BatteryPct: 15, BootCount: 2})
	resp, err := http.Get(base + "/M-1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st devicelink.MeterStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.BatteryPct != 15 || st.LastSeen.IsZero() || len(st.WakeAttempts) != 2 || !st.KeyRotationPending ||
		len(st.StatusEvents) != 1 || st.StatusEvents[0].Kind != devicelink.StatusBatteryLow {
		t.Errorf("status = %+v", st)
	}
	if len(st.PendingCommands) != 2 || len(st.PendingCommands[0].History) == 0 || st.PendingCommands[0].NextAttemptAt.IsZero() {
		t.Errorf("pending = %+v", st.PendingCommands)
	}
}
