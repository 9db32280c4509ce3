package meter_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"ppprenew/devicelink"
	"ppprenew/sim/meter"
)

// The tests drive exchanges explicitly (Tap, Poll) with a poll interval too
// long to fire, so every step is deterministic; TestPollLoop covers the loop.
const noPolling = time.Hour

func TestAddRegistersAndSaysHello(t *testing.T) {
	h := newHarness(t, noPolling)
	h.add("PM-1", "12", "13")
	got, err := h.svc.Meter(h.ctx, "PM-1")
	if err != nil || got.Zone != "Central" || !slices.Equal(got.Bays, []string{"12", "13"}) {
		t.Fatalf("platform meter = %+v, %v", got, err)
	}
	st, _ := h.svc.Status(h.ctx, "PM-1")
	if st.LastReason != devicelink.ReasonBoot || st.Flags == nil || st.Flags.BatteryPct == 0 {
		t.Errorf("platform saw no boot hello: %+v", st)
	}
	s := h.snapshot("PM-1")
	if s.Counters.Sent != 1 || s.Counters.Received != 1 || s.LastError != "" || s.LastExchange.IsZero() {
		t.Errorf("snapshot = %+v", s)
	}
	if _, err := h.fleet.Add(h.ctx, meter.Spec{ID: "PM-1", Bays: []string{"1"}}); !errors.Is(err, meter.ErrExists) {
		t.Errorf("duplicate: err = %v, want ErrExists", err)
	}
}

func TestAddNeedsTheAdminToken(t *testing.T) {
	h := newHarness(t, noPolling)
	bad := meter.NewFleet(meter.Config{ServerURL: h.srv.URL, AdminURL: h.srv.URL + "/admin/v1", AdminToken: "wrong"})
	defer bad.Close()
	if _, err := bad.Add(h.ctx, meter.Spec{ID: "PM-1", Bays: []string{"1"}}); !errors.Is(err, meter.ErrRegister) {
		t.Fatalf("err = %v, want ErrRegister", err)
	}
	if _, err := h.svc.Meter(h.ctx, "PM-1"); !errors.Is(err, devicelink.ErrNotFound) {
		t.Errorf("meter registered without the token")
	}
}

func TestTapReachesSinkExactlyOnce(t *testing.T) {
	h := newHarness(t, noPolling)
	h.add("PM-1", "12")
	r1 := h.tap("PM-1", "12", "tok_card_A_1111", 30)

	txns := h.sink.Transactions()
	if len(txns) != 1 {
		t.Fatalf("sink got %d transactions after the tap, want 1", len(txns))
	}
	want := devicelink.Transaction{
		MeterID: "PM-1", Zone: "Central", Location: "Pedder St", Bay: "12", TxnID: r1.TxnID,
		CardToken: "tok_card_A_1111", Currency: "HKD", AmountMinor: 300,
		PaidAt: h.clock.Now(), PaidUntil: h.clock.Now().Add(30 * time.Minute), Seq: 1,
	}
	if txns[0] != want {
		t.Errorf("transaction = %+v\nwant          %+v", txns[0], want)
	}

	// The reply to the next upload is lost: the meter uploads the same record
	// again at its next exchange.
	m, _ := h.fleet.Meter("PM-1")
	m.SetFaults(meter.Faults{DropReplies: 1})
	h.clock.Advance(time.Minute)
	h.tap("PM-1", "12", "tok_card_B_2222", 60)
	if s := h.snapshot("PM-1"); s.Counters.AcceptedThrough != 1 {
		t.Fatalf("accepted_through = %d after a lost reply, want 1", s.Counters.AcceptedThrough)
	}
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	// And again after forgetting everything the platform accepted.
	m.SetFaults(meter.Faults{ReuploadAll: true})
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	s := h.snapshot("PM-1")
	if got := countEvents(s, "upload seq 1-2"); got != 1 {
		t.Errorf("full re-upload happened %d times, want 1", got)
	}
	if got := countEvents(s, "upload seq 2"); got < 2 {
		t.Errorf("record 2 uploaded %d times, want at least 2", got)
	}
	txns = h.sink.Transactions()
	if len(txns) != 2 || txns[1].Seq != 2 || txns[1].CardToken != "tok_card_B_2222" {
		t.Fatalf("sink got %+v, want each record once", txns)
	}
	if s.Counters.AcceptedThrough != 2 {
		t.Errorf("accepted_through = %d, want 2", s.Counters.AcceptedThrough)
	}
}

func TestSameCardExtendsOtherCardOverrides(t *testing.T) {
	h := newHarness(t, noPolling)
	h.add("PM-1", "12")
	start := h.clock.Now()
	h.tap("PM-1", "12", "tok_A", 30)
	h.clock.Advance(10 * time.Minute)
	h.tap("PM-1", "12", "tok_A", 15)
	if got := h.bay("PM-1", "12").PaidUntil; !got.Equal(start.Add(45 * time.Minute)) {
		t.Errorf("same card: paid_until = %s, want start+45m", got)
	}
	h.clock.Advance(5 * time.Minute)
	h.tap("PM-1", "12", "tok_B", 20)
	if got := h.bay("PM-1", "12").PaidUntil; !got.Equal(start.Add(35 * time.Minute)) {
		t.Errorf("next driver: paid_until = %s, want start+35m", got)
	}
	if _, err := h.fleet.Tap(h.ctx, "PM-1", "99", "tok_A", 10, 100); !errors.Is(err, meter.ErrInvalid) {
		t.Errorf("unknown bay: err = %v", err)
	}
	if _, err := h.fleet.Tap(h.ctx, "PM-9", "12", "tok_A", 10, 100); !errors.Is(err, meter.ErrNotFound) {
		t.Errorf("unknown meter: err = %v", err)
	}
}

func TestRenewalAppliedAndAcked(t *testing.T) {
	h := newHarness(t, noPolling)
	h.add("PM-1", "12")
	h.tap("PM-1", "12", "tok_A", 30)
	until := h.clock.Now().Add(90 * time.Minute)
	if err := h.svc.EnqueueRenewal(h.ctx, devicelink.RenewCommand{CommandID: "c-1", MeterID: "PM-1", Bay: "12", TxnID: "pay-1", PaidUntil: until}); err != nil {
		t.Fatal(err)
	}
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	if got := h.bay("PM-1", "12").PaidUntil; !got.Equal(until) {
		t.Errorf("meter paid_until = %s, want %s", got, until)
	}
	acks := h.sink.Acks()
	want := devicelink.Ack{CommandID: "c-1", MeterID: "PM-1", Bay: "12", Applied: true, PaidUntil: until}
	if len(acks) != 1 || acks[0] != want {
		t.Fatalf("acks = %+v, want [%+v]", acks, want)
	}
	c, err := h.svc.Command(h.ctx, "c-1")
	if err != nil || c.State != devicelink.StateAcked {
		t.Fatalf("command = %+v, %v", c, err)
	}
	s := h.snapshot("PM-1")
	if !slices.Equal(s.Applied, []string{"c-1"}) || s.Counters.PendingAcks != 0 {
		t.Errorf("snapshot applied %v pending %d", s.Applied, s.Counters.PendingAcks)
	}
	if countEvents(s, "command c-1 renew bay 12 -> 10:30:00") != 1 || countEvents(s, "ack sent: c-1 applied") != 1 {
		t.Errorf("event log = %+v", s.Events)
	}
	// A renewal that ends before the bay's time keeps the later time.
	if err := h.svc.EnqueueRenewal(h.ctx, devicelink.RenewCommand{CommandID: "c-2", MeterID: "PM-1", Bay: "12", TxnID: "pay-2", PaidUntil: until.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	if got := h.bay("PM-1", "12").PaidUntil; !got.Equal(until) {
		t.Errorf("paid_until = %s after an earlier renewal, want %s", got, until)
	}
	if acks := h.sink.Acks(); len(acks) != 2 || !acks[1].PaidUntil.Equal(until) {
		t.Errorf("second ack = %+v, want paid_until %s", acks, until)
	}
}

func TestDuplicateRenewalAppliedOnce(t *testing.T) {
	h := newHarness(t, noPolling)
	m := h.add("PM-1", "12")
	h.tap("PM-1", "12", "tok_A", 30)
	until := h.clock.Now().Add(90 * time.Minute)
	c := devicelink.RenewCommand{CommandID: "c-1", MeterID: "PM-1", Bay: "12", TxnID: "pay-1", PaidUntil: until}
	for i := 0; i < 2; i++ {
		if err := h.svc.EnqueueRenewal(h.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// The meter applies it and loses power before acking: the platform
	// delivers the command again, and the meter recognises it.
	m.SetFaults(meter.Faults{LoseAcks: true})
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	if got := h.state("c-1"); got != devicelink.StateDelivered {
		t.Fatalf("after the lost ack the command is %s, want delivered", got)
	}
	h.clock.Advance(time.Minute)
	h.tap("PM-1", "12", "tok_A", 30) // same card extends to +120 min
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	s := h.snapshot("PM-1")
	if n := countEvents(s, "command c-1 renew"); n != 1 {
		t.Errorf("command applied %d times, want 1", n)
	}
	if n := countEvents(s, "command c-1 already applied"); n != 1 {
		t.Errorf("redelivery recognised %d times, want 1", n)
	}
	if !slices.Equal(s.Applied, []string{"c-1"}) {
		t.Errorf("applied = %v", s.Applied)
	}
	if s.Counters.RenewsExecuted != 1 || s.Counters.RenewsIgnored != 1 {
		t.Errorf("renews executed %d, ignored %d; want 1 and 1", s.Counters.RenewsExecuted, s.Counters.RenewsIgnored)
	}
	acks := h.sink.Acks()
	if len(acks) != 1 || !acks[0].PaidUntil.Equal(until.Add(30*time.Minute)) {
		t.Errorf("acks = %+v, want one with the meter's current paid_until", acks)
	}
	if rec, _ := h.svc.Command(h.ctx, "c-1"); rec.Deliveries != 2 || rec.State != devicelink.StateAcked {
		t.Errorf("command = %+v", rec)
	}
	// Enqueuing it again once done is a no-op.
	if err := h.svc.EnqueueRenewal(h.ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(h.snapshot("PM-1"), "received command c-1"); n != 2 || len(h.sink.Acks()) != 1 {
		t.Errorf("command received %d times (want 2), acks %d (want 1)", n, len(h.sink.Acks()))
	}
	if c := h.snapshot("PM-1").Counters; c.RenewsExecuted != 1 {
		t.Errorf("renews executed %d after a no-op enqueue, want 1", c.RenewsExecuted)
	}
}

func TestChainTamperRejected(t *testing.T) {
	h := newHarness(t, noPolling)
	m := h.add("PM-1", "12")
	h.tap("PM-1", "12", "tok_A", 30)
	m.SetFaults(meter.Faults{TamperNext: true})
	h.tap("PM-1", "12", "tok_B", 30)
	h.tap("PM-1", "12", "tok_C", 30)

	if txns := h.sink.Transactions(); len(txns) != 1 || txns[0].Seq != 1 {
		t.Fatalf("sink got %+v, want only seq 1", txns)
	}
	s := h.snapshot("PM-1")
	if s.UploadError != "chain at seq 2" || s.Counters.AcceptedThrough != 1 {
		t.Errorf("snapshot upload error %q accepted %d", s.UploadError, s.Counters.AcceptedThrough)
	}
	st, _ := h.svc.Status(h.ctx, "PM-1")
	if st.ChainSeq != 1 {
		t.Errorf("platform chain head = %d, want 1", st.ChainSeq)
	}
}

func TestGapAsksForResend(t *testing.T) {
	h := newHarness(t, noPolling)
	m := h.add("PM-1", "12", "13")
	m.SetFaults(meter.Faults{SkipNext: true})
	h.tap("PM-1", "12", "tok_A", 30) // left out of its upload
	if n := len(h.sink.Transactions()); n != 0 {
		t.Fatalf("sink got %d transactions, want 0", n)
	}
	h.tap("PM-1", "13", "tok_B", 30) // uploaded alone: a gap

	s := h.snapshot("PM-1")
	if s.Counters.ResendRequests != 1 || countEvents(s, "platform asks to resend from seq 1") != 1 {
		t.Errorf("no resend request: %+v", s.Events)
	}
	txns := h.sink.Transactions()
	if len(txns) != 2 || txns[0].Seq != 1 || txns[1].Seq != 2 {
		t.Fatalf("sink got %+v, want seq 1 and 2 in order", txns)
	}
	if s.Counters.AcceptedThrough != 2 {
		t.Errorf("accepted_through = %d", s.Counters.AcceptedThrough)
	}
}

func TestLostMessageIsSentAgain(t *testing.T) {
	h := newHarness(t, noPolling)
	m := h.add("PM-1", "12")
	m.SetFaults(meter.Faults{DropSends: 1})
	h.tap("PM-1", "12", "tok_A", 30)
	s := h.snapshot("PM-1")
	if len(h.sink.Transactions()) != 0 || s.LastError == "" {
		t.Fatalf("lost upload reached the platform, or no error shown: %q", s.LastError)
	}
	if err := h.fleet.Poll(h.ctx, "PM-1"); err != nil {
		t.Fatal(err)
	}
	if n := len(h.sink.Transactions()); n != 1 {
		t.Errorf("sink got %d transactions, want 1", n)
	}
	// The lost envelope burnt counter 2; the platform accepts the next one.
	if s := h.snapshot("PM-1"); s.Counters.Sent != 3 || s.LastError != "" {
		t.Errorf("counters %+v, last error %q", s.Counters, s.LastError)
	}
}

func TestPollLoop(t *testing.T) {
	h := newHarness(t, 20*time.Millisecond)
	if _, err := h.fleet.Add(h.ctx, meter.Spec{ID: "PM-1", Bays: []string{"12"}, Online: true}); err != nil {
		t.Fatal(err)
	}
	until := h.clock.Now().Add(time.Hour)
	if err := h.svc.EnqueueRenewal(h.ctx, devicelink.RenewCommand{CommandID: "c-1", MeterID: "PM-1", Bay: "12", TxnID: "pay-1", PaidUntil: until}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	if !h.sink.WaitFor(ctx, func(_ []devicelink.Transaction, acks []devicelink.Ack) bool { return len(acks) == 1 }) {
		t.Fatal("the poll loop never delivered the renewal")
	}
	h.fleet.Close()
	if got := h.bay("PM-1", "12").PaidUntil; !got.Equal(until) {
		t.Errorf("paid_until = %s", got)
	}
}
