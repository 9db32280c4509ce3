package devicelink

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Bay report sources (BayState.Source).
const (
	// BaySourceUpload: the time comes from an uploaded payment record.
	BaySourceUpload = "upload"
	// BaySourceAck: the time comes from a meter's command acknowledgement.
	BaySourceAck = "ack"
)

// BayState is a bay's last known paid-until time.
type BayState struct {
	// Bay is the bay id.
	Bay string `json:"bay"`
	// PaidUntil is the last known paid-until time.
	PaidUntil time.Time `json:"paid_until"`
	// Source is BaySourceUpload or BaySourceAck.
	Source string `json:"source"`
	// Ref is the txn id (upload) or command id (ack) that reported it.
	Ref string `json:"ref"`
	// AtMS is when it was reported (payment time or ack time), unix ms.
	AtMS int64 `json:"at_ms"`
}

func bayJSON(b BayState) string {
	out, _ := json.Marshal(b)
	return string(out)
}

// setBay records a bay report unless a newer one is stored.
func (s *Service) setBay(ctx context.Context, meterID string, b BayState) error {
	if err := scriptSetBay.Run(ctx, s.rdb, []string{keyBays(meterID)}, b.Bay, bayJSON(b), b.AtMS).Err(); err != nil {
		return fmt.Errorf("devicelink: bay %s/%s: %w", meterID, b.Bay, err)
	}
	return nil
}

// bays returns the meter's bays with their last known paid-until times, in
// the meter's bay order; bays never reported have a zero PaidUntil.
func (s *Service) bays(ctx context.Context, m Meter) ([]BayState, error) {
	raw, err := s.rdb.HGetAll(ctx, keyBays(m.ID)).Result()
	if err != nil {
		return nil, fmt.Errorf("devicelink: bays of %s: %w", m.ID, err)
	}
	out := make([]BayState, 0, len(m.Bays))
	for _, bay := range m.Bays {
		b := BayState{Bay: bay}
		if v, ok := raw[bay]; ok {
			_ = json.Unmarshal([]byte(v), &b)
		}
		out = append(out, b)
	}
	// Bays reported by the meter but not registered are shown too.
	var extra []string
	for bay := range raw {
		if !m.HasBay(bay) {
			extra = append(extra, bay)
		}
	}
	slices.Sort(extra)
	for _, bay := range extra {
		var b BayState
		_ = json.Unmarshal([]byte(raw[bay]), &b)
		out = append(out, b)
	}
	return out, nil
}
