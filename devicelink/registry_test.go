package devicelink_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"ppprenew/devicelink"
)

func TestCreateMeter(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12", "13")
	got, err := h.svc.Meter(h.ctx, "M-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyEpoch != 1 || !got.CreatedAt.Equal(h.clock.Now()) || len(got.Bays) != 2 || got.Zone != "Z1" || got.SIMNumber != simOf("M-1") {
		t.Errorf("meter = %+v", got)
	}
	if len(m.key) != devicelink.KeyLen {
		t.Fatalf("key is %d bytes", len(m.key))
	}
	// The key is stored only encrypted.
	fields, _ := h.rdb.HGetAll(h.ctx, devicelink.KeyMeter("M-1")).Result()
	for f, v := range fields {
		if bytes.Contains([]byte(v), m.key) || bytes.Contains([]byte(v), []byte(base64.StdEncoding.EncodeToString(m.key))) {
			t.Errorf("field %s holds the clear key", f)
		}
	}
	if _, err := h.svc.CreateMeter(h.ctx, devicelink.Meter{ID: "M-1", Bays: []string{"1"}}); !errors.Is(err, devicelink.ErrExists) {
		t.Errorf("duplicate: err = %v, want ErrExists", err)
	}
	if _, err := h.svc.Meter(h.ctx, "M-404"); !errors.Is(err, devicelink.ErrNotFound) {
		t.Errorf("missing: err = %v, want ErrNotFound", err)
	}
	list, err := h.svc.Meters(h.ctx)
	if err != nil || len(list) != 1 || list[0].ID != "M-1" {
		t.Errorf("Meters = %+v, %v", list, err)
	}
}

func TestCreateMeterValidation(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name string
		m    devicelink.Meter
	}{
		{"empty id", devicelink.Meter{Bays: []string{"1"}}},
		{"hash tag in id", devicelink.Meter{ID: "M{1}", Bays: []string{"1"}}},
		{"no bays", devicelink.Meter{ID: "M-1"}},
		{"duplicate bay", devicelink.Meter{ID: "M-1", Bays: []string{"1", "1"}}},
		{"sim not E.164", devicelink.Meter{ID: "M-1", SIMNumber: "91234567", Bays: []string{"1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.svc.CreateMeter(h.ctx, tc.m); !errors.Is(err, devicelink.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestNewServiceValidates(t *testing.T) {
	h := newHarness(t)
	if _, err := devicelink.NewService(h.rdb, devicelink.DefaultConfig(), platformKey[:16], h.sink, nil); !errors.Is(err, devicelink.ErrInvalid) {
		t.Errorf("short platform key: %v", err)
	}
	if _, err := devicelink.NewService(h.rdb, devicelink.DefaultConfig(), platformKey, nil, nil); !errors.Is(err, devicelink.ErrInvalid) {
		t.Errorf("nil sink: %v", err)
	}
}

func TestOtherPlatformKeyCannotOpenMeterKeys(t *testing.T) {
	h := newHarness(t)
	m := h.meter("M-1", "12")
	other, err := devicelink.NewService(h.rdb, devicelink.DefaultConfig(), bytes.Repeat([]byte{8}, 32), h.sink, h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	env, _, _ := m.codec.SealMessage(poll)
	if _, err := other.Exchange(h.ctx, env); err == nil || devicelink.StatusFor(err) != 503 {
		t.Errorf("exchange under the wrong platform key: err = %v", err)
	}
}
