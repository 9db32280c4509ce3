package devicelink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// A meter's wake timer (meter field wake_due) is armed while it has open
// commands: it is when the platform next acts for them. The wake step runs
// at that time (from its asynq task, or from the sweep if the task was
// lost), under a per-meter lock, and decides what to do:
//
//   - commands whose not_after passed expire (undelivered); a delivered
//     command whose session went idle is in doubt, and fails if the doubt is
//     not settled by not_after + Config.DoubtGrace;
//   - if the meter has an open session, it waits for the meter's next poll;
//   - otherwise it wakes the meter (one call in flight per meter; commands
//     arriving meanwhile ride on it), then re-arms the timer for the next
//     retry: Config.WakeBackoff, then Config.WakeRetryEvery ± WakeJitter,
//     never later than the earliest not_after;
//   - with nothing open the timer is cleared.

// stepLockTTL bounds how long a crashed wake step can hold a meter's lock.
const stepLockTTL = 30 * time.Second

// armWake makes sure the meter's wake timer is at or before due and that a
// wake task exists for it.
func (s *Service) armWake(ctx context.Context, meterID string, due time.Time) error {
	// The timer index is a global key (its own hash slot), so it is kept
	// outside the timer script: lowered (ZADD LT) before the meter's timer
	// is, so that a crash in between leaves the index early, never late or
	// missing. An early entry costs the sweep one step that finds the timer
	// not yet due, after which it re-indexes the meter's true timer.
	if err := s.rdb.ZAddLT(ctx, keyTimers, redis.Z{Score: float64(due.UnixMilli()), Member: meterID}).Err(); err != nil {
		return fmt.Errorf("devicelink: timer index: %w", err)
	}
	set, err := scriptTimer.Run(ctx, s.rdb, []string{keyMeter(meterID), keyOpen(meterID)}, "min", due.UnixMilli(), "").Int64()
	if err != nil {
		return fmt.Errorf("devicelink: wake timer of %s: %w", meterID, err)
	}
	if set <= 0 {
		return nil
	}
	return s.timerSet(ctx, meterID, set)
}

// timerSet indexes an armed timer and enqueues its wake task.
func (s *Service) timerSet(ctx context.Context, meterID string, dueMS int64) error {
	if err := s.rdb.ZAdd(ctx, keyTimers, redis.Z{Score: float64(dueMS), Member: meterID}).Err(); err != nil {
		return fmt.Errorf("devicelink: timer index: %w", err)
	}
	return s.enqueueWake(ctx, meterID, dueMS)
}

// WakeStep runs the wake step of one meter now if its timer is due (the wake
// task's handler and the sweep call it). It returns ErrNotFound for an
// unknown meter.
func (s *Service) WakeStep(ctx context.Context, meterID string) error {
	token, ok, err := s.lockStep(ctx, meterID)
	if err != nil || !ok {
		return err
	}
	defer s.unlockStep(ctx, meterID, token)
	// A timer lowered while the step ran (a command enqueued meanwhile) is
	// handled before letting go of the lock.
	for range 3 {
		again, err := s.wakeStepLocked(ctx, meterID)
		if err != nil || !again {
			return err
		}
	}
	return nil
}

func (s *Service) lockStep(ctx context.Context, meterID string) (string, bool, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	ok, err := s.rdb.SetNX(ctx, keyStepLock(meterID), token, stepLockTTL).Result()
	if err != nil {
		return "", false, fmt.Errorf("devicelink: wake lock of %s: %w", meterID, err)
	}
	return token, ok, nil
}

func (s *Service) unlockStep(ctx context.Context, meterID, token string) {
	if err := scriptUnlock.Run(context.WithoutCancel(ctx), s.rdb, []string{keyStepLock(meterID)}, token).Err(); err != nil {
		s.log.WarnContext(ctx, "wake lock not released", "meter", meterID, "err", err)
	}
}

// wakeStepLocked is one pass of the wake step; it reports whether the timer
// it left is already due.
func (s *Service) wakeStepLocked(ctx context.Context, meterID string) (bool, error) {
	now := s.now()
	ms, err := s.loadMeter(ctx, meterID)
	if err != nil {
		return false, err
	}
	dueS := ms.fields["wake_due"]
	due, _ := strconv.ParseInt(dueS, 10, 64)
	if dueS == "" || due > now.UnixMilli() {
		return false, nil // not armed, or not yet due
	}
	log := s.log.With("meter", meterID)

	lastSeen := parseTime(ms.fields["last_seen"])
	sessionOpen := !lastSeen.IsZero() && now.Sub(lastSeen) < s.cfg.SessionIdle && ms.fields["last_msg"] != MsgBye
	sessionEnds := lastSeen.Add(s.cfg.SessionIdle + time.Millisecond)

	pending := ms.fields["wake_pending"]
	pendingAt, _ := strconv.ParseInt(ms.fields["wake_pending_at"], 10, 64)
	if pending != "" && now.UnixMilli()-pendingAt > s.cfg.ConnectBackDeadline.Milliseconds() {
		log.WarnContext(ctx, "meter did not connect back after the wake call", "attempt", pending)
		if err := s.wakeTimedOut(ctx, pending); err != nil {
			return false, err
		}
		pending = ""
	}

	open, err := s.openCommands(ctx, meterID)
	if err != nil {
		return false, err
	}
	var (
		waiting  []CommandRecord // need the meter to connect
		deadline time.Time       // earliest time one of them gives up
		recheck  time.Time       // a delivered command's session check
	)
	for _, c := range open {
		wait, until, err := s.settle(ctx, c, now, sessionOpen, sessionEnds)
		if err != nil {
			return false, err
		}
		switch {
		case wait:
			waiting = append(waiting, c)
			if deadline.IsZero() || until.Before(deadline) {
				deadline = until
			}
		case !until.IsZero():
			if recheck.IsZero() || until.Before(recheck) {
				recheck = until
			}
		}
	}
	if err := s.flushOutcomes(ctx, ms); err != nil {
		return false, err
	}

	var next time.Time
	switch {
	case len(waiting) == 0 && recheck.IsZero():
		return s.clearTimer(ctx, meterID, dueS, now)
	case len(waiting) == 0:
		next = recheck
	case sessionOpen:
		// The meter takes them at its next poll; look again when the
		// session would have gone idle.
		next = sessionEnds
	case !s.canWake || ms.SIMNumber == "":
		// Wait for the meter's check-in; look again at the first deadline.
		next = deadline.Add(time.Millisecond)
	default:
		next, err = s.wake(ctx, ms, waiting, pending, now)
		if err != nil {
			return false, err
		}
		next = earliest(next, deadline.Add(time.Millisecond))
	}
	if !recheck.IsZero() {
		next = earliest(next, recheck)
	}
	if !next.After(now) {
		next = now.Add(time.Millisecond)
	}
	set, err := scriptTimer.Run(ctx, s.rdb, []string{keyMeter(meterID), keyOpen(meterID)}, "replace", next.UnixMilli(), dueS).Int64()
	if err != nil {
		return false, fmt.Errorf("devicelink: wake timer of %s: %w", meterID, err)
	}
	if set <= 0 {
		return false, nil
	}
	if err := s.timerSet(ctx, meterID, set); err != nil {
		return false, err
	}
	return set <= s.now().UnixMilli(), nil
}

// settle applies the passage of time to one open command. It reports
// whether the command needs the meter to connect (and until when that is
// worth trying), or a later time to look at it again.
func (s *Service) settle(ctx context.Context, c CommandRecord, now time.Time, sessionOpen bool, sessionEnds time.Time) (bool, time.Time, error) {
	doubtUntil := c.NotAfter.Add(s.cfg.DoubtGrace)
	switch c.State {
	case StateQueued, StateWaking, StateInSession:
		if now.After(c.NotAfter) {
			err := s.expect("", s.finish(ctx, c, StateExpired, "not_after passed before the meter was reached", "meter not reached before not_after"))
			return false, time.Time{}, err
		}
		return true, c.NotAfter, nil
	case StateDelivered:
		if sessionOpen {
			return false, sessionEnds, nil
		}
		if _, err := s.transition(ctx, c.MeterID, c.CommandID, StateInDoubt, "session went idle without an outcome", sinkNone); err != nil {
			return false, time.Time{}, s.expect("", err)
		}
		fallthrough
	case StateInDoubt:
		if now.After(doubtUntil) {
			err := s.expect("", s.finish(ctx, c, StateFailed, "outcome unknown: the meter was not reached to settle the doubt",
				"outcome unknown"))
			return false, time.Time{}, err
		}
		return true, doubtUntil, nil
	}
	return false, time.Time{}, nil
}

// wake places a wake call for the waiting commands unless one is in flight
// or the back-off says to wait; it returns when to look again.
func (s *Service) wake(ctx context.Context, ms meterState, waiting []CommandRecord, pending string, now time.Time) (time.Time, error) {
	attempts, _ := strconv.Atoi(ms.fields["wake_attempts"])
	nextMS, _ := strconv.ParseInt(ms.fields["wake_next_at"], 10, 64)
	if attempts > 0 && now.UnixMilli() < nextMS {
		if pending != "" {
			if err := s.ride(ctx, ms.ID, waiting, pending); err != nil {
				return time.Time{}, err
			}
		}
		return time.UnixMilli(nextMS), nil
	}
	attempts++
	next := now.Add(s.backoff(attempts))
	ids := make([]string, 0, len(waiting))
	for _, c := range waiting {
		ids = append(ids, c.CommandID)
	}
	id, err := s.recordAttempt(ctx, ms.ID, now, ids, attempts, next)
	if err != nil {
		return time.Time{}, err
	}
	if err := s.ride(ctx, ms.ID, waiting, id); err != nil {
		return time.Time{}, err
	}
	log := s.log.With("meter", ms.ID, "attempt", id)
	res, werr := s.cfg.Waker.Wake(ctx, WakeRequest{MeterID: ms.ID, SIMNumber: ms.SIMNumber, AttemptID: id})
	_, seq, _ := parseAttemptID(id)
	if werr != nil {
		s.metrics.wakeCall("error")
		log.WarnContext(ctx, "wake call not placed", "sim", maskNumber(ms.SIMNumber), "attempts", attempts, "err", werr)
		pipe := s.rdb.TxPipeline()
		pipe.HSet(ctx, keyWake(ms.ID, seq), "error", werr.Error())
		pipe.HDel(ctx, keyMeter(ms.ID), "wake_pending", "wake_pending_at")
		if _, err := pipe.Exec(ctx); err != nil {
			return time.Time{}, fmt.Errorf("devicelink: wake attempt %s: %w", id, err)
		}
		if err := scriptCallStatus.Run(ctx, s.rdb, []string{keyWake(ms.ID, seq)}, "", WakeError, formatTime(now), finalCallStatuses).Err(); err != nil {
			return time.Time{}, fmt.Errorf("devicelink: wake attempt %s: %w", id, err)
		}
		return next, nil
	}
	s.metrics.wakeCall("placed")
	status := res.Status
	if status == "" {
		status = "queued"
	}
	if err := scriptCallStatus.Run(ctx, s.rdb, []string{keyWake(ms.ID, seq)}, res.CallSID, status, formatTime(now), finalCallStatuses).Err(); err != nil {
		return time.Time{}, fmt.Errorf("devicelink: wake attempt %s: %w", id, err)
	}
	log.InfoContext(ctx, "wake call placed", "sim", maskNumber(ms.SIMNumber), "call", res.CallSID, "attempts", attempts,
		"commands", len(ids), "next_retry", next.UTC().Format(time.RFC3339))
	return next, nil
}

// ride marks queued commands as riding on the wake attempt in flight.
func (s *Service) ride(ctx context.Context, meterID string, waiting []CommandRecord, attemptID string) error {
	for _, c := range waiting {
		if c.State != StateQueued {
			continue
		}
		if err := s.expect(s.transition(ctx, meterID, c.CommandID, StateWaking, "waking the meter ("+attemptID+")", sinkNone)); err != nil {
			return err
		}
	}
	return nil
}

// backoff is the wait after the n-th wake attempt of an episode.
func (s *Service) backoff(n int) time.Duration {
	if n >= 1 && n <= len(s.cfg.WakeBackoff) {
		return s.cfg.WakeBackoff[n-1]
	}
	j := 1 + s.cfg.WakeJitter*(2*s.cfg.Random()-1)
	return time.Duration(float64(s.cfg.WakeRetryEvery) * j)
}

// clearTimer drops the meter's timer when nothing is open; if a command
// arrived meanwhile the timer stays (or is armed) for it.
func (s *Service) clearTimer(ctx context.Context, meterID, consumed string, now time.Time) (bool, error) {
	set, err := scriptTimer.Run(ctx, s.rdb, []string{keyMeter(meterID), keyOpen(meterID)}, "clear",
		now.Add(s.cfg.WakeBatchWindow).UnixMilli(), consumed).Int64()
	if err != nil {
		return false, fmt.Errorf("devicelink: wake timer of %s: %w", meterID, err)
	}
	if set == 0 {
		if err := s.rdb.ZRem(ctx, keyTimers, meterID).Err(); err != nil {
			return false, fmt.Errorf("devicelink: timer index: %w", err)
		}
		return false, nil
	}
	if set < 0 {
		return false, nil
	}
	if err := s.timerSet(ctx, meterID, set); err != nil {
		return false, err
	}
	return set <= s.now().UnixMilli(), nil
}

// RetryCommand resets a meter's wake back-off and wakes it now for an open
// command (queued, waking, in session or in doubt). Other states give
// ErrWrongState; an unknown id ErrNotFound.
func (s *Service) RetryCommand(ctx context.Context, id string) error {
	c, err := s.Command(ctx, id)
	if err != nil {
		return err
	}
	switch c.State {
	case StateQueued, StateWaking, StateInSession, StateInDoubt:
	default:
		return fmt.Errorf("%w: command %s is %s", ErrWrongState, id, c.State)
	}
	if err := s.rdb.HDel(ctx, keyMeter(c.MeterID), "wake_attempts", "wake_next_at").Err(); err != nil {
		return fmt.Errorf("devicelink: retry %s: %w", id, err)
	}
	s.log.InfoContext(ctx, "wake retry requested", "meter", c.MeterID, "command", id)
	if err := s.armWake(ctx, c.MeterID, s.now()); err != nil {
		return err
	}
	if s.cfg.Tasks == nil {
		return s.expect("", s.WakeStep(ctx, c.MeterID))
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
