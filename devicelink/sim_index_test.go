package devicelink_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"ppprenew/devicelink"
)

func TestCreateMeterRefusesATakenSIMNumber(t *testing.T) {
	h := newHarness(t)
	const sim = "+85261110001"
	if _, err := h.svc.CreateMeter(h.ctx, devicelink.Meter{ID: "M-1", SIMNumber: sim, Bays: []string{"1"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		given   devicelink.Meter
		wantErr error
	}{
		{"another meter with the number", devicelink.Meter{ID: "M-2", SIMNumber: sim, Bays: []string{"1"}}, devicelink.ErrSIMInUse},
		{"the same meter again", devicelink.Meter{ID: "M-1", SIMNumber: sim, Bays: []string{"1"}}, devicelink.ErrExists},
		{"the same id with another number", devicelink.Meter{ID: "M-1", SIMNumber: "+85261110002", Bays: []string{"1"}}, devicelink.ErrExists},
		{"another number", devicelink.Meter{ID: "M-3", SIMNumber: "+85261110003", Bays: []string{"1"}}, nil},
		{"no number", devicelink.Meter{ID: "M-4", Bays: []string{"1"}}, nil},
		{"no number either", devicelink.Meter{ID: "M-5", Bays: []string{"1"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.CreateMeter(h.ctx, tc.given)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
	// A refused registration leaves nothing behind.
	if _, err := h.svc.Meter(h.ctx, "M-2"); !errors.Is(err, devicelink.ErrNotFound) {
		t.Errorf("refused meter M-2: err = %v, want ErrNotFound", err)
	}
	// The id refused as a duplicate did not release the number it tried.
	if _, err := h.svc.CreateMeter(h.ctx, devicelink.Meter{ID: "M-6", SIMNumber: "+85261110002", Bays: []string{"1"}}); err != nil {
		t.Errorf("number of a refused duplicate id stays free: %v", err)
	}
	if _, err := h.svc.CreateMeter(h.ctx, devicelink.Meter{ID: "M-7", SIMNumber: sim, Bays: []string{"1"}}); !errors.Is(err, devicelink.ErrSIMInUse) {
		t.Errorf("a refused duplicate id released its holder's number: err = %v", err)
	}
}

func TestCreateMeterSIMNumberRace(t *testing.T) {
	h := newHarness(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.svc.CreateMeter(h.ctx, devicelink.Meter{ID: fmt.Sprintf("R-%d", i), SIMNumber: "+85261119999", Bays: []string{"1"}})
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, devicelink.ErrSIMInUse):
			t.Errorf("R-%d: err = %v, want ErrSIMInUse", i, err)
		}
	}
	ms, err := h.svc.Meters(h.ctx)
	if won != 1 || err != nil || len(ms) != 1 {
		t.Fatalf("%d registrations won, %d meters stored (%v), want 1", won, len(ms), err)
	}
}
