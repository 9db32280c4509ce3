package devicelink

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// SweepResult counts what one sweep did.
type SweepResult struct {
	// Steps is the number of due wake timers run.
	Steps int `json:"steps"`
	// Flushed is the number of meters whose pending outcomes were passed on.
	Flushed int `json:"flushed"`
	// Missing is the number of meters newly reported missing.
	Missing int `json:"missing"`
}

// Sweep is the device link's periodic housekeeping, also usable directly by
// tests with a fake clock: it runs every due wake timer (a lost or late
// wake task), passes on outcomes a sink refused earlier, and raises a
// missing-meter status event for meters silent for Config.MissingMeterAlarm.
// Each kind of work is capped at Config.SweepBatch meters.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := s.now()
	due, err := s.rdb.ZRangeByScore(ctx, keyTimers, &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(s.cfg.SweepBatch),
	}).Result()
	if err != nil {
		return res, fmt.Errorf("devicelink: due timers: %w", err)
	}
	for _, id := range due {
		err := s.WakeStep(ctx, id)
		if errors.Is(err, ErrNotFound) {
			s.rdb.ZRem(ctx, keyTimers, id)
			continue
		}
		if err != nil {
			s.log.ErrorContext(ctx, "wake step failed", "meter", id, "err", err)
			continue
		}
		res.Steps++
		if err := s.reindexTimer(ctx, id); err != nil {
			return res, err
		}
	}

	outbox, err := s.rdb.SRandMemberN(ctx, keyOutbox, int64(s.cfg.SweepBatch)).Result()
	if err != nil {
		return res, fmt.Errorf("devicelink: outbox: %w", err)
	}
	for _, id := range outbox {
		ms, err := s.loadMeter(ctx, id)
		if errors.Is(err, ErrNotFound) {
			s.rdb.SRem(ctx, keyOutbox, id)
			continue
		}
		if err != nil {
			return res, err
		}
		if err := s.flushOutcomes(ctx, ms); err != nil {
			return res, err
		}
		res.Flushed++
	}

	silent, err := s.rdb.ZRangeByScore(ctx, keySeen, &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.Add(-s.cfg.MissingMeterAlarm).UnixMilli(), 10), Count: int64(s.cfg.SweepBatch),
	}).Result()
	if err != nil {
		return res, fmt.Errorf("devicelink: silent meters: %w", err)
	}
	for _, id := range silent {
		n, err := s.rdb.Exists(ctx, keyMeter(id)).Result()
		if err != nil {
			return res, fmt.Errorf("devicelink: missing meter %s: %w", id, err)
		}
		if n == 0 {
			s.rdb.ZRem(ctx, keySeen, id)
			continue
		}
		set, err := s.rdb.HSetNX(ctx, keyMeter(id), "missing_at", formatTime(now)).Result()
		if err != nil {
			return res, fmt.Errorf("devicelink: missing meter %s: %w", id, err)
		}
		if set {
			res.Missing++
			s.log.WarnContext(ctx, "meter missing", "meter", id, "silent_for", s.cfg.MissingMeterAlarm.String())
			if err := s.statusEvent(ctx, id, StatusMissing, "no contact for "+s.cfg.MissingMeterAlarm.String()); err != nil {
				return res, err
			}
		}
		// The meter's next exchange puts it back in the index.
		if err := s.rdb.ZRem(ctx, keySeen, id).Err(); err != nil {
			return res, fmt.Errorf("devicelink: seen index: %w", err)
		}
	}
	return res, nil
}

// reindexTimer makes the timer index agree with the meter's timer.
func (s *Service) reindexTimer(ctx context.Context, meterID string) error {
	due, err := s.rdb.HGet(ctx, keyMeter(meterID), "wake_due").Result()
	if errors.Is(err, redis.Nil) {
		return s.rdb.ZRem(ctx, keyTimers, meterID).Err()
	}
	if err != nil {
		return fmt.Errorf("devicelink: wake timer of %s: %w", meterID, err)
	}
	ms, _ := strconv.ParseInt(due, 10, 64)
	return s.rdb.ZAdd(ctx, keyTimers, redis.Z{Score: float64(ms), Member: meterID}).Err()
}
