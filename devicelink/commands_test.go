package devicelink_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"ppprenew/devicelink"
)

func states(c devicelink.CommandRecord) []devicelink.CommandState {
	out := []devicelink.CommandState{}
	for _, tr := range c.History {
		out = append(out, tr.To)
	}
	return out
}

func TestRenewalDeliveredAppliedAcked(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	until := h.clock.Now().Add(90 * time.Minute)
	if err := h.svc.EnqueueRenewal(h.ctx, h.renewal("c-1", "M-1", "12", until)); err != nil {
		t.Fatal(err)
	}
	if got := h.state("c-1"); got != devicelink.StateQueued {
		t.Fatalf("state = %s, want queued", got)
	}

	rep := m.mustSend(poll)
	if len(rep.Commands) != 1 {
		t.Fatalf("commands = %+v", rep.Commands)
	}
	cmd := rep.Commands[0]
	if cmd.CommandID != "c-1" || cmd.Type != devicelink.CommandRenew || cmd.Bay != "12" || !cmd.PaidUntil.Equal(until) ||
		cmd.TxnID != "pay-c-1" || !cmd.NotAfter.Equal(until) {
		t.Errorf("command = %+v", cmd)
	}
	if got := h.state("c-1"); got != devicelink.StateDelivered {
		t.Fatalf("state = %s, want delivered", got)
	}
	// Until acked, every reply carries it again.
	if rep := m.mustSend(poll); !slices.Equal(commandIDs(rep.Commands), []string{"c-1"}) {
		t.Fatalf("redelivery = %v", commandIDs(rep.Commands))
	}

	meterUntil := until.Add(5 * time.Minute) // the meter had more time already
	rep = m.mustSend(ackApplied(cmd, meterUntil))
	if len(rep.Commands) != 0 {
		t.Errorf("acked command delivered again: %v", commandIDs(rep.Commands))
	}
	acks := h.sink.Acks()
	if len(acks) != 1 || acks[0] != (devicelink.Ack{CommandID: "c-1", MeterID: "M-1", Bay: "12", Applied: true, PaidUntil: meterUntil}) {
		t.Fatalf("acks = %+v", acks)
	}
	c, err := h.svc.Command(h.ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []devicelink.CommandState{devicelink.StateQueued, devicelink.StateDelivered, devicelink.StateAccepted, devicelink.StateAcked}
	if c.State != devicelink.StateAcked || !slices.Equal(states(c), want) || c.Deliveries != 2 || !c.ResultPaidUntil.Equal(meterUntil) {
		t.Errorf("record = %+v, history %v", c, states(c))
	}
	// A repeated ack (lost reply) changes nothing.
	m.mustSend(ackApplied(cmd, meterUntil))
	if len(h.sink.Acks()) != 1 {
		t.Errorf("repeated ack reached the sink: %+v", h.sink.Acks())
	}
	st, _ := h.svc.Status(h.ctx, "M-1")
	if st.Bays[0].Source != devicelink.BaySourceAck || !st.Bays[0].PaidUntil.Equal(meterUntil) || len(st.PendingCommands) != 0 {
		t.Errorf("status = %+v", st)
	}
}

func TestEnqueueRenewalIsIdempotent(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	h.meter("M-2", "12")
	c := h.renewal("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	for i := 0; i < 3; i++ {
		if err := h.svc.EnqueueRenewal(h.ctx, c); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	other := c
	other.MeterID = "M-2"
	if err := h.svc.EnqueueRenewal(h.ctx, other); !errors.Is(err, devicelink.ErrConflict) {
		t.Errorf("same id for another meter: err = %v, want ErrConflict", err)
	}
	rep := m.mustSend(poll)
	if len(rep.Commands) != 1 {
		t.Fatalf("commands = %v", commandIDs(rep.Commands))
	}
	m.mustSend(ackApplied(rep.Commands[0], c.PaidUntil))
	// Enqueuing it again after completion is still a no-op.
	if err := h.svc.EnqueueRenewal(h.ctx, c); err != nil {
		t.Fatal(err)
	}
	if rep := m.mustSend(poll); len(rep.Commands) != 0 {
		t.Errorf("completed command delivered again")
	}
	cmds, _ := h.svc.Commands(h.ctx, "M-1")
	if len(cmds) != 1 || len(h.sink.Acks()) != 1 {
		t.Errorf("commands %d, acks %d", len(cmds), len(h.sink.Acks()))
	}
}

func TestEnqueueRenewalValidation(t *testing.T) {
	h := newHarness(t)
	h.meter("M-1", "12")
	until := h.clock.Now().Add(time.Hour)
	tests := []struct {
		name string
		c    devicelink.RenewCommand
		want error
	}{
		{"unknown meter", h.renewal("c-1", "M-9", "12", until), devicelink.ErrNotFound},
		{"unknown bay", h.renewal("c-1", "M-1", "99", until), devicelink.ErrInvalid},
		{"no paid_until", h.renewal("c-1", "M-1", "12", time.Time{}), devicelink.ErrInvalid},
		{"bad id", h.renewal("c 1", "M-1", "12", until), devicelink.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := h.svc.EnqueueRenewal(h.ctx, tc.c); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := h.svc.Command(h.ctx, "c-404"); !errors.Is(err, devicelink.ErrNotFound) {
		t.Errorf("Command: err = %v, want ErrNotFound", err)
	}
}

func TestNewerRenewalSupersedesQueuedOne(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12", "13")
	now := h.clock.Now()
	mustEnqueue := func(c devicelink.RenewCommand) {
		t.Helper()
		if err := h.svc.EnqueueRenewal(h.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mustEnqueue(h.renewal("c-1", "M-1", "12", now.Add(time.Hour)))
	mustEnqueue(h.renewal("c-other-bay", "M-1", "13", now.Add(time.Hour)))
	mustEnqueue(h.renewal("c-2", "M-1", "12", now.Add(2*time.Hour)))
	if got := h.state("c-1"); got != devicelink.StateSuperseded {
		t.Fatalf("c-1 = %s, want superseded", got)
	}
	if c, _ := h.svc.Command(h.ctx, "c-1"); c.Reason != "superseded by c-2" {
		t.Errorf("reason = %q", c.Reason)
	}
	rep := m.mustSend(poll)
	if got := commandIDs(rep.Commands); !slices.Equal(got, []string{"c-other-bay", "c-2"}) {
		t.Fatalf("delivered %v", got)
	}
	// Delivered commands are not superseded; both stay until acked.
	mustEnqueue(h.renewal("c-3", "M-1", "12", now.Add(3*time.Hour)))
	if got := h.state("c-2"); got != devicelink.StateDelivered {
		t.Errorf("c-2 = %s, want delivered", got)
	}
	// A "newer" renewal with an earlier paid_until does not drop the later one.
	mustEnqueue(h.renewal("c-4", "M-1", "12", now.Add(30*time.Minute)))
	if got := h.state("c-3"); got != devicelink.StateQueued {
		t.Errorf("c-3 = %s, want queued", got)
	}
}

func TestExpiryAndDoubt(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12", "13")
	now := h.clock.Now()
	c1 := h.renewal("c-queued", "M-1", "12", now.Add(10*time.Minute))
	c2 := h.renewal("c-delivered", "M-1", "13", now.Add(10*time.Minute))
	for _, c := range []devicelink.RenewCommand{c2} {
		if err := h.svc.EnqueueRenewal(h.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	m.mustSend(poll) // delivers c-delivered
	if err := h.svc.EnqueueRenewal(h.ctx, c1); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(11 * time.Minute)
	rep := m.mustSend(poll)
	if len(rep.Commands) != 0 {
		t.Fatalf("commands past not_after delivered: %v", commandIDs(rep.Commands))
	}
	if got := h.state("c-queued"); got != devicelink.StateExpired {
		t.Errorf("c-queued = %s, want expired", got)
	}
	if got := h.state("c-delivered"); got != devicelink.StateInDoubt {
		t.Errorf("c-delivered = %s, want in_doubt", got)
	}
	// A hello without it settles the doubt: it was not applied.
	m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgHello, Reason: devicelink.ReasonScheduled, Applied: []string{"c-unrelated"}})
	if got := h.state("c-delivered"); got != devicelink.StateFailed {
		t.Errorf("c-delivered = %s, want failed", got)
	}
	if len(h.sink.Acks()) != 0 {
		t.Errorf("acks = %+v", h.sink.Acks())
	}
}

func TestByeThenHelloResolvesDoubt(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	until := h.clock.Now().Add(time.Hour)
	if err := h.svc.EnqueueRenewal(h.ctx, h.renewal("c-1", "M-1", "12", until)); err != nil {
		t.Fatal(err)
	}
	m.mustSend(poll)
	if rep := m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgBye}); len(rep.Commands) != 0 {
		t.Errorf("bye reply carries commands")
	}
	if got := h.state("c-1"); got != devicelink.StateInDoubt {
		t.Fatalf("after bye = %s, want in_doubt", got)
	}
	flags := &devicelink.Flags{BatteryPct: 81, BootCount: 4}
	rep := m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgHello, Reason: devicelink.ReasonWake, Flags: flags, Applied: []string{"c-1"}})
	if len(rep.Commands) != 0 {
		t.Errorf("resolved command delivered again")
	}
	if got := h.state("c-1"); got != devicelink.StateAcked {
		t.Fatalf("after hello = %s, want acked", got)
	}
	acks := h.sink.Acks()
	if len(acks) != 1 || !acks[0].Applied || !acks[0].PaidUntil.Equal(until) {
		t.Errorf("acks = %+v", acks)
	}
	st, _ := h.svc.Status(h.ctx, "M-1")
	if st.LastReason != devicelink.ReasonWake || st.Flags == nil || st.Flags.BatteryPct != 81 || !st.LastSeen.Equal(h.clock.Now()) {
		t.Errorf("status = %+v", st)
	}
}

func TestInDoubtIsRedeliveredBeforeNotAfter(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	if err := h.svc.EnqueueRenewal(h.ctx, h.renewal("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	m.mustSend(poll)
	m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgBye})
	rep := m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgHello, Reason: devicelink.ReasonPoll})
	if !slices.Equal(commandIDs(rep.Commands), []string{"c-1"}) || h.state("c-1") != devicelink.StateDelivered {
		t.Errorf("in-doubt command not redelivered: %v, %s", commandIDs(rep.Commands), h.state("c-1"))
	}
}

func TestRejectedAck(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	if err := h.svc.EnqueueRenewal(h.ctx, h.renewal("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	cmd := m.mustSend(poll).Commands[0]
	h.sink.FailAcks(1, errors.New("busy"))
	m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgAck, Acks: []devicelink.AckMessage{
		{CommandID: "c-unknown", Status: devicelink.AckApplied, Bay: "12"},
		{CommandID: cmd.CommandID, Status: devicelink.AckRejected, Bay: "12", Reason: "bay suspended"},
	}})
	if got := h.state("c-1"); got != devicelink.StateRejected {
		t.Fatalf("state = %s, want rejected", got)
	}
	if len(h.sink.Acks()) != 0 {
		t.Fatal("failed sink call recorded")
	}
	m.mustSend(poll) // the outcome is passed on at the next exchange
	acks := h.sink.Acks()
	if len(acks) != 1 || acks[0].Applied || acks[0].Reason != "bay suspended" {
		t.Errorf("acks = %+v", acks)
	}
	m.mustSend(poll)
	if len(h.sink.Acks()) != 1 {
		t.Errorf("outcome passed on twice")
	}
}

func TestCancelCommand(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12", "13")
	for id, bay := range map[string]string{"c-1": "12", "c-2": "13"} {
		if err := h.svc.EnqueueRenewal(h.ctx, h.renewal(id, "M-1", bay, h.clock.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.svc.CancelCommand(h.ctx, "c-2", "payment refunded"); err != nil {
		t.Fatal(err)
	}
	if got := commandIDs(m.mustSend(poll).Commands); !slices.Equal(got, []string{"c-1"}) {
		t.Errorf("delivered %v", got)
	}
	if err := h.svc.CancelCommand(h.ctx, "c-1", ""); !errors.Is(err, devicelink.ErrWrongState) {
		t.Errorf("cancel delivered: err = %v, want ErrWrongState", err)
	}
}
