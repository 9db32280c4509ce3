package meter_test

import (
	"testing"
	"time"

	"ppprenew/devicelink"
	"ppprenew/sim/meter"
)

func (h *harness) securityKinds(id string) map[string]int {
	h.t.Helper()
	ev, err := h.svc.SecurityEvents(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range ev {
		out[e.Kind]++
	}
	return out
}

func TestEnvelopeFaultsAreRefusedAndRecovered(t *testing.T) {
	h := newHarness(t, noPolling)
	m := h.add("PM-1", "12")

	m.SetFaults(meter.Faults{DuplicateSends: 1})
	h.tap("PM-1", "12", "tok_A", 30)
	if n := len(h.sink.Transactions()); n != 1 {
		t.Fatalf("duplicate: sink got %d transactions", n)
	}

	m.SetFaults(meter.Faults{ReorderSends: 1})
	h.tap("PM-1", "12", "tok_B", 30) // held back
	if n := len(h.sink.Transactions()); n != 1 {
		t.Fatalf("held-back upload reached the platform")
	}
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil { // sent again, then the late one
		t.Fatal(err)
	}

	m.SetFaults(meter.Faults{ReplayOld: 1})
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	if got := h.securityKinds("PM-1")[devicelink.SecurityReplay]; got != 3 {
		t.Errorf("%d replay events, want 3 (duplicate, late, replayed)", got)
	}

	m.SetFaults(meter.Faults{CorruptReplies: 1})
	if err := h.fleet.Poll(h.ctx, "PM-1"); err == nil {
		t.Fatal("a corrupted reply was accepted")
	}
	if err := h.fleet.CheckIn(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	s := h.snapshot("PM-1")
	if s.Counters.DuplicatesSent != 1 || s.Counters.Reordered != 1 || s.Counters.ReplaysSent != 1 || s.Counters.RejectedReplies != 1 {
		t.Errorf("counters = %+v", s.Counters)
	}
	if got := h.securityKinds("PM-1")[devicelink.SecurityRejectedReplies]; got != 1 {
		t.Errorf("%d rejected-replies events, want 1", got)
	}
	txns := h.sink.Transactions()
	if len(txns) != 2 || txns[1].CardToken != "tok_B" || s.Counters.AcceptedThrough != 2 {
		t.Errorf("transactions = %+v", txns)
	}
	if countEvents(s, "platform accepted a replayed envelope") != 0 {
		t.Error("the platform accepted a replay")
	}
}

func TestClockSkewMakesTheMeterRefuseACommand(t *testing.T) {
	h := newHarness(t, noPolling)
	m := h.add("PM-1", "12")
	m.SetFaults(meter.Faults{ClockSkewSeconds: 600})
	if err := h.svc.EnqueueRenewal(h.ctx, devicelink.RenewCommand{CommandID: "c-1", MeterID: "PM-1", Bay: "12", TxnID: "p-1",
		PaidUntil: h.clock.Now().Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	if got := h.state("c-1"); got != devicelink.StateRejected {
		t.Fatalf("state = %s, want rejected", got)
	}
	if h.securityKinds("PM-1")[devicelink.SecurityExpiredCommand] != 1 || h.snapshot("PM-1").Counters.RejectedCommands != 1 {
		t.Errorf("expired command not counted")
	}
	if acks := h.sink.Acks(); len(acks) != 1 || acks[0].Applied || acks[0].Reason != devicelink.RejectExpired {
		t.Errorf("acks = %+v", acks)
	}
}

func TestWakeRulesOnTheMeter(t *testing.T) {
	h := newHarness(t, noPolling)
	h.fleet = meter.NewFleet(meter.Config{
		ServerURL: h.srv.URL, AdminURL: h.srv.URL + "/admin/v1", AdminToken: adminToken, PollInterval: noPolling,
		Clock: h.clock.Now, PlatformCallerID: "+85230001000", ConnectBackDelay: 3 * time.Second,
	})
	t.Cleanup(h.fleet.Close)
	if _, err := h.fleet.Add(h.ctx, meter.Spec{ID: "PM-1", SIMNumber: "+85261230001", Bays: []string{"1"}, MaxWakesPerHour: 2}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(10 * time.Second)
	h.fleet.Tick(h.ctx) // idle: bye
	if s := h.snapshot("PM-1"); s.Awake {
		t.Fatal("meter still awake after its idle time")
	}
	m, _ := h.fleet.Meter("PM-1")

	ring := func() string {
		t.Helper()
		out, ok := h.fleet.Ring(h.ctx, "+85261230001", "+85230001000")
		if !ok {
			t.Fatal("ring not handled")
		}
		return out
	}
	if out := ring(); out != meter.OutcomeBusy {
		t.Fatalf("outcome = %q", out)
	}
	h.clock.Advance(time.Second)
	h.fleet.Tick(h.ctx)
	if st, _ := h.svc.Status(h.ctx, "PM-1"); st.LastReason == devicelink.ReasonWake {
		t.Fatal("connected back before its delay")
	}
	h.clock.Advance(2 * time.Second)
	h.fleet.Tick(h.ctx)
	if st, _ := h.svc.Status(h.ctx, "PM-1"); st.LastReason != devicelink.ReasonWake {
		t.Fatalf("no wake hello: last reason %q", st.LastReason)
	}
	// Nobody asked this platform to wake the meter: a security event.
	if h.securityKinds("PM-1")[devicelink.SecurityUnsolicitedWake] != 1 {
		t.Error("unsolicited wake not recorded")
	}

	m.SetFaults(meter.Faults{ConnectBackFails: 1})
	ring()
	h.clock.Advance(3 * time.Second)
	h.fleet.Tick(h.ctx)
	if n := countEvents(h.snapshot("PM-1"), "connect-back failed"); n != 1 {
		t.Errorf("connect-back failure not logged")
	}
	ring() // third wake within the hour: rate-limited
	s := h.snapshot("PM-1")
	if s.Counters.Wakes != 2 || s.Counters.RateLimitedWakes != 1 || !s.WakeAt.IsZero() {
		t.Errorf("counters = %+v, wake at %s", s.Counters, s.WakeAt)
	}
	m.SetFaults(meter.Faults{RadioUnreachable: true})
	if out := ring(); out != meter.OutcomeNoAnswer {
		t.Errorf("unreachable outcome = %q", out)
	}
	h.clock.Advance(time.Hour)
	m.SetFaults(meter.Faults{})
	ring()
	h.clock.Advance(3 * time.Second)
	h.fleet.Tick(h.ctx)
	st, _ := h.svc.Status(h.ctx, "PM-1")
	if st.Flags == nil || st.Flags.RateLimitedWakes != 1 {
		t.Fatalf("flags = %+v", st.Flags)
	}
	events, _ := h.svc.StatusEvents(h.ctx, "PM-1")
	if len(events) == 0 || events[0].Kind != devicelink.StatusWakeRateLimited {
		t.Errorf("status events = %+v", events)
	}
}

func TestSleepingMeterChecksIn(t *testing.T) {
	h := newHarness(t, noPolling)
	h.add("PM-1", "12")
	h.clock.Advance(5 * time.Second)
	h.fleet.Tick(h.ctx)
	st, _ := h.svc.Status(h.ctx, "PM-1")
	if s := h.snapshot("PM-1"); s.Awake || st.LastMessage != devicelink.MsgBye {
		t.Fatalf("awake %v, last message %q", s.Awake, st.LastMessage)
	}
	if err := h.svc.EnqueueRenewal(h.ctx, devicelink.RenewCommand{CommandID: "c-1", MeterID: "PM-1", Bay: "12", TxnID: "p-1",
		PaidUntil: h.clock.Now().Add(8 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	h.fleet.Tick(h.ctx)
	if h.state("c-1") != devicelink.StateQueued {
		t.Fatal("a sleeping meter took a command")
	}
	h.clock.Advance(5 * time.Hour)
	h.fleet.Tick(h.ctx)
	if h.state("c-1") != devicelink.StateAcked {
		t.Fatalf("state after the check-in = %s", h.state("c-1"))
	}
	st, _ = h.svc.Status(h.ctx, "PM-1")
	if st.LastReason != devicelink.ReasonScheduled {
		t.Errorf("last reason = %q", st.LastReason)
	}
}

func TestKeyRotationOnTheMeter(t *testing.T) {
	h := newHarness(t, noPolling)
	h.add("PM-1", "12")
	id, err := h.svc.RotateKey(h.ctx, "PM-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	got, _ := h.svc.Meter(h.ctx, "PM-1")
	if s := h.snapshot("PM-1"); s.KeyEpoch != 2 || got.KeyEpoch != 2 || h.state(id) != devicelink.StateAcked {
		t.Fatalf("meter epoch %d, platform epoch %d, command %s", s.KeyEpoch, got.KeyEpoch, h.state(id))
	}
	h.tap("PM-1", "12", "tok_A", 30)
	if n := len(h.sink.Transactions()); n != 1 {
		t.Errorf("upload under the new key: %d transactions", n)
	}
}
