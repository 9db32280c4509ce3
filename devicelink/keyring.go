package devicelink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// serverKeys is the platform's KeySource for one exchange request: it accepts
// only meter-to-platform envelopes of registered meters at their current key
// epoch, and checks counters atomically in Redis.
type serverKeys struct {
	ctx   context.Context
	s     *Service
	meter meterState
}

var _ KeySource = (*serverKeys)(nil)

// OpenKey implements KeySource.
func (k *serverKeys) OpenKey(h Header) ([]byte, error) {
	if h.Type != TypeMeter {
		return nil, fmt.Errorf("%w: platform accepts only meter envelopes", ErrMalformed)
	}
	ms, err := k.s.loadMeter(k.ctx, h.MeterID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnknownMeter
	}
	if err != nil {
		return nil, err
	}
	if h.Epoch != ms.KeyEpoch {
		return nil, fmt.Errorf("%w: got %d, current %d", ErrEpoch, h.Epoch, ms.KeyEpoch)
	}
	master, err := k.s.openMeterKey(ms.ID, ms.KeyEpoch, ms.keyEnc)
	if err != nil {
		return nil, err
	}
	k.meter = ms
	return DeriveKey(master, MeterToPlatform, h.Epoch, h.MeterID)
}

// CheckCounter implements KeySource with an atomic check-and-set in Redis.
func (k *serverKeys) CheckCounter(h Header) error {
	r, err := scriptAcceptCounter.Run(k.ctx, k.s.rdb, []string{keyMeter(h.MeterID)},
		strconv.FormatUint(h.Counter, 10)).Int()
	if err != nil {
		return fmt.Errorf("devicelink: counter check: %w", err)
	}
	switch r {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("%w: meter %s counter %d", ErrReplay, h.MeterID, h.Counter)
	default:
		return ErrUnknownMeter
	}
}

// sealReply seals a reply body for a meter with the next platform counter.
func (s *Service) sealReply(ctx context.Context, ms meterState, body []byte) ([]byte, error) {
	master, err := s.openMeterKey(ms.ID, ms.KeyEpoch, ms.keyEnc)
	if err != nil {
		return nil, err
	}
	key, err := DeriveKey(master, PlatformToMeter, ms.KeyEpoch, ms.ID)
	if err != nil {
		return nil, err
	}
	ctr, err := s.rdb.HIncrBy(ctx, keyMeter(ms.ID), "out_ctr", 1).Result()
	if err != nil {
		return nil, fmt.Errorf("devicelink: reply counter: %w", err)
	}
	return Seal(key, Header{Type: TypePlatform, Epoch: ms.KeyEpoch, Counter: uint64(ctr), MeterID: ms.ID}, body), nil
}
