package devicelink_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ppprenew/devicelink"
)

func TestRefusedEnvelopesAreSecurityEvents(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newHarnessWith(t, func(c *devicelink.Config) { c.Registerer = reg })
	m := h.meter("M-1", "12")
	other := h.meter("M-2", "12")

	good, _, _ := m.codec.SealMessage(poll)
	flipped, _, _ := m.codec.SealMessage(poll)
	flipped[len(flipped)-3] ^= 0x10
	wrongEpoch, _ := devicelink.NewMeterCodec("M-1", 7, m.key, 100)
	epochEnv, _, _ := wrongEpoch.SealMessage(poll)
	// M-2 seals with its own key but claims to be M-1.
	impostor, _ := devicelink.NewMeterCodec("M-1", 1, other.key, 200)
	impostorEnv, _, _ := impostor.SealMessage(poll)
	ghost, _ := devicelink.NewMeterCodec("M-404", 1, m.key, 0)
	ghostEnv, _, _ := ghost.SealMessage(poll)

	tests := []struct {
		name string
		env  []byte
		want error
		kind string
	}{
		{"good", good, nil, ""},
		{"replayed", good, devicelink.ErrReplay, devicelink.SecurityReplay},
		{"flipped bit", flipped, devicelink.ErrAuth, devicelink.SecurityAuth},
		{"wrong key epoch", epochEnv, devicelink.ErrEpoch, devicelink.SecurityEpoch},
		{"another meter's key", impostorEnv, devicelink.ErrAuth, devicelink.SecurityAuth},
		{"unknown meter", ghostEnv, devicelink.ErrUnknownMeter, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.status("M-1").SecurityEvents)
			_, err := h.svc.Exchange(h.ctx, tc.env)
			if !errors.Is(err, tc.want) && (err != nil || tc.want != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			events := h.status("M-1").SecurityEvents
			switch {
			case tc.kind == "" && len(events) != before:
				t.Errorf("security event recorded: %+v", events[0])
			case tc.kind != "" && (len(events) != before+1 || events[0].Kind != tc.kind):
				t.Errorf("events = %+v, want a new %s", events, tc.kind)
			}
		})
	}
	// A good envelope still works after all that.
	if _, err := m.send(poll); err != nil {
		t.Fatalf("meter locked out: %v", err)
	}
	counts := counterValues(t, reg, "ppp_devicelink_security_events_total", "kind")
	if counts[devicelink.SecurityAuth] != 2 || counts[devicelink.SecurityReplay] != 1 || counts[devicelink.SecurityEpoch] != 1 {
		t.Errorf("security counters = %v", counts)
	}
	rejected := counterValues(t, reg, "ppp_devicelink_envelopes_rejected_total", "reason")
	if rejected["unknown_meter"] != 1 || rejected["auth"] != 2 {
		t.Errorf("rejection counters = %v", rejected)
	}
}

func TestExpiredCommandRefusedByMeterIsASecurityEvent(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(5*time.Minute))
	cmd := m.mustSend(poll).Commands[0]
	m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgAck, Acks: []devicelink.AckMessage{
		{CommandID: cmd.CommandID, Status: devicelink.AckRejected, Bay: "12", Reason: devicelink.RejectExpired},
	}})
	st := h.status("M-1")
	if h.state("c-1") != devicelink.StateRejected || len(st.SecurityEvents) != 1 || st.SecurityEvents[0].Kind != devicelink.SecurityExpiredCommand {
		t.Errorf("state %s, events %+v", h.state("c-1"), st.SecurityEvents)
	}
}

func TestHelloFlagsBecomeStatusEvents(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	normal := devicelink.Flags{BatteryPct: 90, TempC: 25, HumidityPct: 40, BootCount: 1}
	m.hello(devicelink.ReasonBoot, &normal)
	if ev := h.status("M-1").StatusEvents; len(ev) != 0 {
		t.Fatalf("events for a healthy meter: %+v", ev)
	}
	bad := devicelink.Flags{BatteryPct: 12, TempC: 81, HumidityPct: 97, BootCount: 1, Tamper: true, CoverOpen: true,
		Light: true, Tilt: true, Vibration: true, RefusedCalls: 3}
	m.hello(devicelink.ReasonScheduled, &bad)
	m.hello(devicelink.ReasonScheduled, &bad) // unchanged: no new events
	st := h.status("M-1")
	want := []string{devicelink.StatusBatteryLow, devicelink.StatusTamper, devicelink.StatusCoverOpen, devicelink.StatusLight,
		devicelink.StatusTilt, devicelink.StatusVibration, devicelink.StatusTemperature, devicelink.StatusHumidity}
	for _, k := range want {
		if n := countKinds(st.StatusEvents, k); n != 1 {
			t.Errorf("%d %s events, want 1", n, k)
		}
	}
	if len(st.StatusEvents) != len(want) || st.BatteryPct != 12 {
		t.Errorf("status events = %+v, battery %d", st.StatusEvents, st.BatteryPct)
	}
	if len(st.SecurityEvents) != 1 || st.SecurityEvents[0].Kind != devicelink.SecurityRefusedCalls {
		t.Errorf("security events = %+v", st.SecurityEvents)
	}
	normal.RefusedCalls = 3
	m.hello(devicelink.ReasonScheduled, &normal)
	st = h.status("M-1")
	for _, k := range want {
		if n := countKinds(st.StatusEvents, k+"_cleared"); n != 1 {
			t.Errorf("%d %s_cleared events, want 1", n, k)
		}
	}
}

// counterValues reads a counter vector from a registry by one label.
func counterValues(t *testing.T, reg *prometheus.Registry, name, label string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
