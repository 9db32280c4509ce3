package devicelink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// serverKeys is the platform's KeySource for one exchange request: it accepts
// only meter-to-platform envelopes of registered meters at their current key
// epoch (or the staged next one, which it then makes current, or the previous
// one within Config.OldEpochWindow), and checks counters atomically in Redis.
type serverKeys struct {
	ctx   context.Context
	s     *Service
	meter meterState
	// epoch and master are the key the envelope opened under; the reply is
	// sealed under the same one.
	epoch   uint32
	master  []byte
	promote bool
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
	k.meter = ms
	var enc string
	switch h.Epoch {
	case ms.KeyEpoch:
		enc = ms.keyEnc
	case uint32(hashUint(ms.fields["key_next_epoch"])):
		enc, k.promote = ms.fields["key_next_enc"], true
	case uint32(hashUint(ms.fields["key_prev_epoch"])):
		until, _ := strconv.ParseInt(ms.fields["key_prev_until"], 10, 64)
		if !k.s.now().Before(time.UnixMilli(until)) {
			return nil, fmt.Errorf("%w: epoch %d retired, current %d", ErrEpoch, h.Epoch, ms.KeyEpoch)
		}
		enc = ms.fields["key_prev_enc"]
	default:
		return nil, fmt.Errorf("%w: got %d, current %d", ErrEpoch, h.Epoch, ms.KeyEpoch)
	}
	if h.Epoch == 0 || enc == "" {
		return nil, fmt.Errorf("%w: got %d, current %d", ErrEpoch, h.Epoch, ms.KeyEpoch)
	}
	master, err := k.s.openMeterKey(ms.ID, h.Epoch, enc)
	if err != nil {
		return nil, err
	}
	k.epoch, k.master = h.Epoch, master
	return DeriveKey(master, MeterToPlatform, h.Epoch, h.MeterID)
}

// CheckCounter implements KeySource with an atomic check-and-set in Redis.
// An envelope under the staged next key proves the meter holds it: the key
// becomes current.
func (k *serverKeys) CheckCounter(h Header) error {
	r, err := scriptAcceptCounter.Run(k.ctx, k.s.rdb, []string{keyMeter(h.MeterID)},
		strconv.FormatUint(h.Counter, 10)).Int()
	if err != nil {
		return fmt.Errorf("devicelink: counter check: %w", err)
	}
	switch r {
	case 1:
	case 0:
		return fmt.Errorf("%w: meter %s counter %d", ErrReplay, h.MeterID, h.Counter)
	default:
		return ErrUnknownMeter
	}
	if k.promote {
		if err := k.s.promoteKey(k.ctx, &k.meter, h.Epoch); err != nil {
			return err
		}
	}
	return nil
}

// sealReply seals a reply body for a meter with the next platform counter,
// under the key the meter's envelope used.
func (s *Service) sealReply(ctx context.Context, ms meterState, epoch uint32, master []byte, body []byte) ([]byte, error) {
	key, err := DeriveKey(master, PlatformToMeter, epoch, ms.ID)
	if err != nil {
		return nil, err
	}
	ctr, err := s.rdb.HIncrBy(ctx, keyMeter(ms.ID), "out_ctr", 1).Result()
	if err != nil {
		return nil, fmt.Errorf("devicelink: reply counter: %w", err)
	}
	return Seal(key, Header{Type: TypePlatform, Epoch: epoch, Counter: uint64(ctr), MeterID: ms.ID}, body), nil
}
