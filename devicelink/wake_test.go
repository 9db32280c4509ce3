package devicelink_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"ppprenew/devicelink"
	"ppprenew/devicelink/devicelinktest"
)

// newWakeHarness is a harness whose service wakes meters through a
// recording fake Waker, with a jitter source fixed at the middle.
func newWakeHarness(t *testing.T, mutate func(*devicelink.Config)) (*harness, *devicelinktest.Waker) {
	t.Helper()
	w := &devicelinktest.Waker{}
	h := newHarnessWith(t, func(c *devicelink.Config) {
		c.Waker = w
		c.Random = func() float64 { return 0.5 }
		if mutate != nil {
			mutate(c)
		}
	})
	return h, w
}

func (h *harness) sweep() devicelink.SweepResult {
	h.t.Helper()
	r, err := h.svc.Sweep(h.ctx)
	if err != nil {
		h.t.Fatalf("Sweep: %v", err)
	}
	return r
}

func (h *harness) status(id string) devicelink.MeterStatus {
	h.t.Helper()
	st, err := h.svc.Status(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Status(%s): %v", id, err)
	}
	return st
}

func (h *harness) enqueue(id, meter, bay string, paidUntil time.Time) {
	h.t.Helper()
	if err := h.svc.EnqueueRenewal(h.ctx, h.renewal(id, meter, bay, paidUntil)); err != nil {
		h.t.Fatalf("EnqueueRenewal(%s): %v", id, err)
	}
}

func (m *testMeter) hello(reason string, flags *devicelink.Flags, applied ...string) devicelink.Reply {
	m.h.t.Helper()
	return m.mustSend(devicelink.MeterMessage{Type: devicelink.MsgHello, Reason: reason, Flags: flags, Applied: applied})
}

func (h *harness) record(id string) devicelink.CommandRecord {
	h.t.Helper()
	c, err := h.svc.Command(h.ctx, id)
	if err != nil {
		h.t.Fatalf("Command(%s): %v", id, err)
	}
	return c
}

func TestSleepingMeterIsWokenAndRenewed(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	m := h.meter("M-1", "12")
	h.clock.Advance(time.Minute) // the registration hello session is long over
	until := h.clock.Now().Add(time.Hour)
	h.enqueue("c-1", "M-1", "12", until)

	h.sweep()
	if n := len(waker.Requests()); n != 0 {
		t.Fatalf("woken %d times inside the batch window", n)
	}
	h.clock.Advance(2 * time.Second)
	if r := h.sweep(); r.Steps != 1 {
		t.Fatalf("sweep ran %d steps, want 1", r.Steps)
	}
	reqs := waker.Requests()
	if len(reqs) != 1 || reqs[0] != (devicelink.WakeRequest{MeterID: "M-1", SIMNumber: simOf("M-1"), AttemptID: "M-1:1"}) {
		t.Fatalf("wake requests = %+v", reqs)
	}
	if got := h.state("c-1"); got != devicelink.StateWaking {
		t.Fatalf("state = %s, want waking", got)
	}
	if err := h.svc.CallStatus(h.ctx, "M-1:1", "CA00000000000000000000000000000001", "busy"); err != nil {
		t.Fatal(err)
	}

	h.clock.Advance(5 * time.Second)
	rep := m.hello(devicelink.ReasonWake, &devicelink.Flags{BatteryPct: 80})
	if !slices.Equal(commandIDs(rep.Commands), []string{"c-1"}) {
		t.Fatalf("connect-back reply carries %v", commandIDs(rep.Commands))
	}
	m.mustSend(ackApplied(rep.Commands[0], until))
	c := h.record("c-1")
	want := []devicelink.CommandState{devicelink.StateQueued, devicelink.StateWaking, devicelink.StateInSession,
		devicelink.StateDelivered, devicelink.StateAccepted, devicelink.StateAcked}
	if !slices.Equal(states(c), want) {
		t.Errorf("history = %v, want %v", states(c), want)
	}
	st := h.status("M-1")
	if len(st.WakeAttempts) != 1 {
		t.Fatalf("wake attempts = %+v", st.WakeAttempts)
	}
	a := st.WakeAttempts[0]
	if a.Status != "busy" || a.ConnectBack != devicelink.ConnectBackOK || !a.ConnectedAt.Equal(h.clock.Now()) ||
		a.CallSID == "" || !slices.Equal(a.Commands, []string{"c-1"}) {
		t.Errorf("attempt = %+v", a)
	}
	if len(st.SecurityEvents) != 0 {
		t.Errorf("security events = %+v", st.SecurityEvents)
	}

	// Once the session is over, nothing is left to do: the timer clears.
	h.clock.Advance(time.Minute)
	h.sweep()
	if st := h.status("M-1"); !st.NextWakeAt.IsZero() {
		t.Errorf("timer still armed at %s", st.NextWakeAt)
	}
	if n := len(waker.Requests()); n != 1 {
		t.Errorf("woken %d times, want 1", n)
	}
}

func TestCommandsRideOnOneWake(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	m := h.meter("M-1", "12", "13", "14")
	h.clock.Advance(time.Minute)
	until := h.clock.Now().Add(time.Hour)
	h.enqueue("c-1", "M-1", "12", until)
	h.clock.Advance(time.Second)
	h.enqueue("c-2", "M-1", "13", until) // inside the batch window of c-1
	h.clock.Advance(time.Second)
	h.sweep()
	if n := len(waker.Requests()); n != 1 {
		t.Fatalf("%d wake calls, want 1", n)
	}
	// A command enqueued while the call is in flight rides on it.
	h.clock.Advance(10 * time.Second)
	h.enqueue("c-3", "M-1", "14", until)
	h.clock.Advance(2 * time.Second)
	h.sweep()
	if n := len(waker.Requests()); n != 1 {
		t.Fatalf("%d wake calls while one is in flight, want 1", n)
	}
	for _, id := range []string{"c-1", "c-2", "c-3"} {
		if got := h.state(id); got != devicelink.StateWaking {
			t.Errorf("%s = %s, want waking", id, got)
		}
	}
	rep := m.hello(devicelink.ReasonWake, nil)
	if got := commandIDs(rep.Commands); !slices.Equal(got, []string{"c-1", "c-2", "c-3"}) {
		t.Errorf("connect-back carries %v", got)
	}
}

func TestWakeBackoffUntilExpiry(t *testing.T) {
	randoms := []float64{0, 0.999999}
	h, waker := newWakeHarness(t, func(c *devicelink.Config) {
		i := 0
		c.Random = func() float64 { r := randoms[i%len(randoms)]; i++; return r }
	})
	h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	start := h.clock.Now()
	notAfter := start.Add(3 * time.Hour)
	h.enqueue("c-1", "M-1", "12", notAfter)

	var calls []time.Time
	for range 100 {
		c := h.record("c-1")
		if c.State.Terminal() {
			break
		}
		if c.NextAttemptAt.IsZero() {
			t.Fatalf("open command without a next attempt: %+v", c)
		}
		h.clock.Set(c.NextAttemptAt)
		before := len(waker.Requests())
		h.sweep()
		if len(waker.Requests()) > before {
			calls = append(calls, h.clock.Now())
		}
	}
	var gaps []time.Duration
	for i := 1; i < len(calls); i++ {
		gaps = append(gaps, calls[i].Sub(calls[i-1]))
	}
	want := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute,
		24 * time.Minute, 36 * time.Minute, 24 * time.Minute}
	if len(gaps) < len(want) {
		t.Fatalf("gaps = %v, want at least %v", gaps, want)
	}
	for i, w := range want {
		if d := gaps[i] - w; d < -time.Second || d > time.Second {
			t.Errorf("gap %d = %s, want %s (±20 %% jitter at its extremes)", i, gaps[i], w)
		}
	}
	if !calls[0].Equal(start.Add(2 * time.Second)) {
		t.Errorf("first call at +%s, want after the 2 s batch window", calls[0].Sub(start))
	}
	if last := calls[len(calls)-1]; last.After(notAfter) {
		t.Errorf("called at %s, after not_after", last)
	}
	c := h.record("c-1")
	if c.State != devicelink.StateExpired || !c.NextAttemptAt.IsZero() {
		t.Fatalf("command = %s next %s, want expired", c.State, c.NextAttemptAt)
	}
	if !c.UpdatedAt.After(notAfter) || c.UpdatedAt.Sub(notAfter) > time.Second {
		t.Errorf("expired at %s, want right after not_after %s", c.UpdatedAt, notAfter)
	}
	fails := h.sink.Failures()
	if len(fails) != 1 || fails[0].CommandID != "c-1" || fails[0].State != devicelink.StateExpired {
		t.Fatalf("failure sink got %+v", fails)
	}
	if st := h.status("M-1"); !st.NextWakeAt.IsZero() || len(st.PendingCommands) != 0 {
		t.Errorf("after expiry: next wake %s, pending %d", st.NextWakeAt, len(st.PendingCommands))
	}
	n := len(waker.Requests())
	h.clock.Advance(2 * time.Hour)
	h.sweep()
	if len(waker.Requests()) != n || len(h.sink.Failures()) != 1 {
		t.Errorf("activity after expiry")
	}
}

func TestMeterInSessionIsNotCalled(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	m := h.meter("M-1", "12")
	m.mustSend(poll)
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	h.clock.Advance(2 * time.Second)
	h.sweep()
	if n := len(waker.Requests()); n != 0 {
		t.Fatalf("meter with an open session woken %d times", n)
	}
	if got := commandIDs(m.mustSend(poll).Commands); !slices.Equal(got, []string{"c-1"}) {
		t.Fatalf("next poll carries %v", got)
	}
	// The meter goes quiet without acking: the command is in doubt and the
	// meter is woken to settle it.
	h.clock.Advance(time.Minute)
	h.sweep()
	if got := h.state("c-1"); got != devicelink.StateInDoubt {
		t.Fatalf("state = %s, want in_doubt", got)
	}
	if n := len(waker.Requests()); n != 1 {
		t.Fatalf("%d wake calls for the in-doubt command, want 1", n)
	}
	// The meter did apply it: its hello says so, and it is not sent again.
	rep := m.hello(devicelink.ReasonWake, nil, "c-1")
	if len(rep.Commands) != 0 || h.state("c-1") != devicelink.StateAcked {
		t.Errorf("resent %v, state %s", commandIDs(rep.Commands), h.state("c-1"))
	}
}

func TestUnexpectedWakeHelloIsASecurityEvent(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	m := h.meter("M-1", "12")
	m.hello(devicelink.ReasonWake, nil)
	st := h.status("M-1")
	if len(st.SecurityEvents) != 1 || st.SecurityEvents[0].Kind != devicelink.SecurityUnsolicitedWake {
		t.Fatalf("security events = %+v", st.SecurityEvents)
	}

	// A wake hello after the connect-back deadline is one too.
	h.clock.Advance(time.Minute)
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	h.clock.Advance(2 * time.Second)
	h.sweep()
	if len(waker.Requests()) != 1 {
		t.Fatal("no wake call")
	}
	h.clock.Advance(91 * time.Second)
	m.hello(devicelink.ReasonWake, nil)
	st = h.status("M-1")
	if len(st.SecurityEvents) != 2 || st.SecurityEvents[0].Kind != devicelink.SecurityUnsolicitedWake {
		t.Errorf("security events = %+v", st.SecurityEvents)
	}
	// A scheduled check-in is never one.
	m.hello(devicelink.ReasonScheduled, nil)
	if n := len(h.status("M-1").SecurityEvents); n != 2 {
		t.Errorf("%d security events after a check-in, want 2", n)
	}
}

func TestCallStatusCallbacks(t *testing.T) {
	h, _ := newWakeHarness(t, nil)
	h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	h.clock.Advance(2 * time.Second)
	h.sweep()
	sid := h.status("M-1").WakeAttempts[0].CallSID

	tests := []struct {
		name             string
		attempt, sid, st string
		want             error
		wantStatus       string
	}{
		{"busy is recorded", "M-1:1", sid, "busy", nil, "busy"},
		{"a late ringing does not replace it", "M-1:1", sid, "ringing", nil, "busy"},
		{"a repeat is harmless", "M-1:1", sid, "busy", nil, "busy"},
		{"unknown attempt", "M-1:7", sid, "busy", devicelink.ErrNotFound, "busy"},
		{"garbage attempt", "nonsense", sid, "busy", devicelink.ErrNotFound, "busy"},
		{"another call's sid", "M-1:1", "CAother", "no-answer", devicelink.ErrInvalid, "busy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := h.svc.CallStatus(h.ctx, tc.attempt, tc.sid, tc.st); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got := h.status("M-1").WakeAttempts[0].Status; got != tc.wantStatus {
				t.Errorf("status = %q, want %q", got, tc.wantStatus)
			}
		})
	}
	sec := h.status("M-1").SecurityEvents
	if len(sec) != 1 || sec[0].Kind != devicelink.SecurityCallMismatch {
		t.Errorf("security events = %+v", sec)
	}
}

func TestStatusCallbackBeforeTheCallRequestReturns(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	waker.OnWake = func(_ context.Context, req devicelink.WakeRequest) (devicelink.WakeResult, error) {
		// The carrier reports the refusal before answering the request.
		if err := h.svc.CallStatus(h.ctx, req.AttemptID, "CA1", "busy"); err != nil {
			t.Errorf("CallStatus: %v", err)
		}
		return devicelink.WakeResult{CallSID: "CA1", Status: "queued"}, nil
	}
	h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	h.clock.Advance(2 * time.Second)
	h.sweep()
	if a := h.status("M-1").WakeAttempts[0]; a.Status != "busy" || a.CallSID != "CA1" {
		t.Errorf("attempt = %+v", a)
	}
}

func TestWakeErrorIsRetriedOnSchedule(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	fails := true
	waker.OnWake = func(context.Context, devicelink.WakeRequest) (devicelink.WakeResult, error) {
		if fails {
			return devicelink.WakeResult{}, errors.New("carrier down")
		}
		return devicelink.WakeResult{CallSID: "CA2", Status: "queued"}, nil
	}
	h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	h.clock.Advance(2 * time.Second)
	h.sweep()
	st := h.status("M-1")
	if len(st.WakeAttempts) != 1 || st.WakeAttempts[0].Status != devicelink.WakeError || !strings.Contains(st.WakeAttempts[0].Error, "carrier down") {
		t.Fatalf("attempts = %+v", st.WakeAttempts)
	}
	if d := st.NextWakeAt.Sub(h.clock.Now()); d != 2*time.Minute {
		t.Errorf("next attempt in %s, want 2m", d)
	}
	fails = false
	h.clock.Set(st.NextWakeAt)
	h.sweep()
	if st := h.status("M-1"); len(st.WakeAttempts) != 2 || st.WakeAttempts[0].CallSID != "CA2" || st.WakeAttemptsInEpisode != 2 {
		t.Errorf("attempts = %+v", st.WakeAttempts)
	}
	if n := len(waker.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestNoneWakerWaitsForCheckIn(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	until := h.clock.Now().Add(time.Hour)
	h.enqueue("c-1", "M-1", "12", until)
	h.clock.Advance(2 * time.Second)
	h.sweep()
	c := h.record("c-1")
	if c.State != devicelink.StateQueued || !c.NextAttemptAt.Equal(until.Add(time.Millisecond)) {
		t.Fatalf("command = %s next %s, want queued until not_after", c.State, c.NextAttemptAt)
	}
	if st := h.status("M-1"); len(st.WakeAttempts) != 0 {
		t.Errorf("wake attempts recorded without a waker: %+v", st.WakeAttempts)
	}
	rep := m.hello(devicelink.ReasonScheduled, nil)
	if !slices.Equal(commandIDs(rep.Commands), []string{"c-1"}) {
		t.Errorf("check-in carries %v", commandIDs(rep.Commands))
	}
}

func TestPoisonCommandFailsAfterThreeReboots(t *testing.T) {
	h, _ := newWakeHarness(t, nil)
	m := h.meter("M-1", "12")
	flags := func(boot uint32) *devicelink.Flags { return &devicelink.Flags{BatteryPct: 90, BootCount: boot} }
	m.hello(devicelink.ReasonBoot, flags(1))
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	for boot := uint32(2); boot <= 4; boot++ {
		if got := commandIDs(m.mustSend(poll).Commands); !slices.Equal(got, []string{"c-1"}) && boot < 4 {
			t.Fatalf("boot %d: poll carries %v", boot, got)
		}
		// The meter dies on it before journaling, and comes back.
		rep := m.hello(devicelink.ReasonBoot, flags(boot))
		c := h.record("c-1")
		if c.Reboots != int(boot-1) {
			t.Errorf("boot %d: reboots = %d", boot, c.Reboots)
		}
		if boot < 4 && !slices.Equal(commandIDs(rep.Commands), []string{"c-1"}) {
			t.Errorf("boot %d: resent %v", boot, commandIDs(rep.Commands))
		}
	}
	c := h.record("c-1")
	if c.State != devicelink.StateFailed || !strings.HasPrefix(c.Reason, "poison") {
		t.Fatalf("command = %s (%s), want failed as poison", c.State, c.Reason)
	}
	if f := h.sink.Failures(); len(f) != 1 || f[0].CommandID != "c-1" {
		t.Errorf("failure sink got %+v", f)
	}
	events := h.status("M-1").StatusEvents
	if n := countKinds(events, devicelink.StatusReboot); n != 3 {
		t.Errorf("%d reboot events, want 3: %+v", n, events)
	}
}

func TestRebootAfterApplyingResolvesByAppliedList(t *testing.T) {
	h, _ := newWakeHarness(t, nil)
	m := h.meter("M-1", "12")
	m.hello(devicelink.ReasonBoot, &devicelink.Flags{BootCount: 1})
	until := h.clock.Now().Add(time.Hour)
	h.enqueue("c-1", "M-1", "12", until)
	m.mustSend(poll)
	rep := m.hello(devicelink.ReasonBoot, &devicelink.Flags{BootCount: 2}, "c-1")
	c := h.record("c-1")
	if len(rep.Commands) != 0 || c.State != devicelink.StateAcked || c.Reboots != 0 {
		t.Fatalf("command = %+v, resent %v", c, commandIDs(rep.Commands))
	}
}

func TestFailureSinkIsRetriedBySweep(t *testing.T) {
	h, _ := newWakeHarness(t, nil)
	h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(10*time.Minute))
	// Refused when the command expires and again by the same sweep's
	// outbox pass.
	h.sink.FailFailures(2, errors.New("workflow busy"))
	for range 20 {
		c := h.record("c-1")
		if c.State.Terminal() {
			break
		}
		h.clock.Set(c.NextAttemptAt)
		h.sweep()
	}
	if got := h.state("c-1"); got != devicelink.StateExpired {
		t.Fatalf("state = %s", got)
	}
	if n := len(h.sink.Failures()); n != 0 {
		t.Fatalf("failure recorded despite the sink error")
	}
	if r := h.sweep(); r.Flushed != 1 {
		t.Errorf("sweep flushed %d meters, want 1", r.Flushed)
	}
	if f := h.sink.Failures(); len(f) != 1 || f[0].State != devicelink.StateExpired || f[0].Reason == "" {
		t.Errorf("failures = %+v", f)
	}
	if r := h.sweep(); r.Flushed != 0 || len(h.sink.Failures()) != 1 {
		t.Errorf("passed on twice")
	}
}

func TestMissingMeterAlarm(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	m.mustSend(poll)
	h.clock.Advance(12 * time.Hour)
	if r := h.sweep(); r.Missing != 0 {
		t.Fatalf("missing after 12 h")
	}
	h.clock.Advance(time.Hour + time.Second)
	if r := h.sweep(); r.Missing != 1 {
		t.Fatalf("sweep reported %d missing, want 1", r.Missing)
	}
	if r := h.sweep(); r.Missing != 0 {
		t.Errorf("reported missing twice")
	}
	st := h.status("M-1")
	if !st.Missing || countKinds(st.StatusEvents, devicelink.StatusMissing) != 1 {
		t.Fatalf("status = %+v", st)
	}
	m.mustSend(poll)
	st = h.status("M-1")
	if st.Missing || countKinds(st.StatusEvents, devicelink.StatusBack) != 1 {
		t.Errorf("after contact: missing %v, events %+v", st.Missing, st.StatusEvents)
	}
}

func TestRetryWakesAtOnce(t *testing.T) {
	h, waker := newWakeHarness(t, nil)
	h.meter("M-1", "12")
	h.clock.Advance(time.Minute)
	h.enqueue("c-1", "M-1", "12", h.clock.Now().Add(time.Hour))
	h.clock.Advance(2 * time.Second)
	h.sweep()
	h.clock.Advance(3 * time.Minute)
	h.sweep()
	h.clock.Advance(10 * time.Second)
	if n := len(waker.Requests()); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
	if err := h.svc.RetryCommand(h.ctx, "c-1"); err != nil {
		t.Fatal(err)
	}
	if n := len(waker.Requests()); n != 3 {
		t.Fatalf("retry placed no call: %d", n)
	}
	if st := h.status("M-1"); st.WakeAttemptsInEpisode != 1 || st.NextWakeAt.Sub(h.clock.Now()) != 2*time.Minute {
		t.Errorf("back-off not reset: attempts %d next in %s", st.WakeAttemptsInEpisode, st.NextWakeAt.Sub(h.clock.Now()))
	}
	if err := h.svc.CancelCommand(h.ctx, "c-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.RetryCommand(h.ctx, "c-1"); !errors.Is(err, devicelink.ErrWrongState) {
		t.Errorf("retry of a cancelled command: %v", err)
	}
	if f := h.sink.Failures(); len(f) != 1 || f[0].State != devicelink.StateCancelled {
		t.Errorf("failures = %+v", f)
	}
}

func countKinds(events []devicelink.MeterEvent, kind string) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}
