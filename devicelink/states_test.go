package devicelink

import "testing"

func TestStateTable(t *testing.T) {
	for _, s := range AllStates {
		if _, ok := transitions[s]; !ok {
			t.Errorf("%s missing from the transition table", s)
		}
		for _, next := range transitions[s] {
			if _, ok := transitions[next]; !ok {
				t.Errorf("%s -> unknown state %s", s, next)
			}
		}
	}
	terminal := map[CommandState]bool{
		StateAcked: true, StateRejected: true, StateFailed: true,
		StateExpired: true, StateCancelled: true, StateSuperseded: true,
	}
	for _, s := range AllStates {
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
		if s.Terminal() && s.Open() {
			t.Errorf("%s is both terminal and open", s)
		}
	}
	tests := []struct {
		from, to CommandState
		want     bool
	}{
		{StateQueued, StateDelivered, true},
		{StateQueued, StateWaking, true},
		{StateWaking, StateInSession, true},
		{StateInSession, StateDelivered, true},
		{StateDelivered, StateAccepted, true},
		{StateAccepted, StateAcked, true},
		{StateDelivered, StateInDoubt, true},
		{StateInDoubt, StateAccepted, true},
		{StateDelivered, StateSuperseded, false},
		{StateDelivered, StateCancelled, false},
		{StateQueued, StateAcked, false},
		{StateAcked, StateAccepted, false},
		{StateExpired, StateDelivered, false},
	}
	for _, tc := range tests {
		if got := CanTransition(tc.from, tc.to); got != tc.want {
			t.Errorf("CanTransition(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
	if got := stateList(sourcesOf(StateAcked)); got != ",accepted," {
		t.Errorf("sources of acked = %q", got)
	}
}
