package devicelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Wake call statuses recorded on a WakeAttempt besides the carrier's call
// statuses (queued, ringing, in-progress, completed, busy, failed,
// no-answer, canceled).
const (
	// WakePlacing: recorded, the carrier has not answered yet.
	WakePlacing = "placing"
	// WakeError: the carrier refused the call or could not be reached.
	WakeError = "error"
)

// Connect-back results (WakeAttempt.ConnectBack).
const (
	// ConnectBackOK: the meter connected back within the deadline.
	ConnectBackOK = "connected"
	// ConnectBackTimeout: it did not.
	ConnectBackTimeout = "timeout"
)

// finalCallStatuses are the call statuses a later callback cannot replace.
const finalCallStatuses = ",busy,no-answer,failed,canceled,completed,error,"

// WakeAttempt is one wake call and what came of it.
type WakeAttempt struct {
	// ID is "<meter id>:<seq>", the attempt id passed to the carrier.
	ID string `json:"id"`
	// MeterID is the meter woken.
	MeterID string `json:"meter_id"`
	// At is when the attempt was made.
	At time.Time `json:"at"`
	// CallSID is the carrier's call id.
	CallSID string `json:"call_sid,omitempty"`
	// Status is the last call status: busy means the meter refused the call
	// as expected; no-answer and failed mean the ring did not reach it.
	Status string `json:"status"`
	// StatusAt is when Status was recorded.
	StatusAt time.Time `json:"status_at,omitzero"`
	// ConnectBack is ConnectBackOK, ConnectBackTimeout or "" (pending).
	ConnectBack string `json:"connect_back,omitempty"`
	// ConnectedAt is when the meter connected back.
	ConnectedAt time.Time `json:"connected_at,omitzero"`
	// Error is the carrier's refusal, if any.
	Error string `json:"error,omitempty"`
	// Commands are the commands the meter was woken for.
	Commands []string `json:"commands"`
}

// parseAttemptID splits "<meter id>:<seq>".
func parseAttemptID(id string) (string, int64, bool) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil || seq <= 0 || !meterIDPattern.MatchString(id[:i]) {
		return "", 0, false
	}
	return id[:i], seq, true
}

// recordAttempt stores a new wake attempt before the call is placed (the
// meter may connect back, and the carrier call back, before the call request
// returns) and marks it pending on the meter.
func (s *Service) recordAttempt(ctx context.Context, meterID string, now time.Time, commands []string, attempts int, nextAt time.Time) (string, error) {
	seq, err := s.rdb.HIncrBy(ctx, keyMeter(meterID), "wake_seq", 1).Result()
	if err != nil {
		return "", fmt.Errorf("devicelink: wake attempt of %s: %w", meterID, err)
	}
	id := meterID + ":" + strconv.FormatInt(seq, 10)
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, keyWake(meterID, seq), "id", id, "at", formatTime(now), "status", WakePlacing, "commands", mustJSON(commands))
	pipe.ZAdd(ctx, keyWakes(meterID), redis.Z{Score: float64(seq), Member: seq})
	pipe.HSet(ctx, keyMeter(meterID), "wake_pending", id, "wake_pending_at", now.UnixMilli(),
		"wake_attempts", attempts, "wake_next_at", nextAt.UnixMilli())
	if old := seq - int64(s.cfg.MaxEventsPerMeter); old > 0 {
		pipe.Del(ctx, keyWake(meterID, old))
		pipe.ZRem(ctx, keyWakes(meterID), old)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("devicelink: wake attempt of %s: %w", meterID, err)
	}
	return id, nil
}

// CallStatus records a wake call's status reported by the carrier's status
// callback (the server's signed wake-status webhook calls it with the
// WakeAttemptParam query value, CallSid and CallStatus). Callbacks may
// repeat or arrive out of order: a final status is never replaced. An
// unknown attempt gives ErrNotFound; a call sid that differs from the one
// recorded for the attempt gives ErrInvalid (and a security event).
func (s *Service) CallStatus(ctx context.Context, attemptID, callSid, status string) error {
	meterID, seq, ok := parseAttemptID(attemptID)
	if !ok {
		return fmt.Errorf("%w: wake attempt %q", ErrNotFound, attemptID)
	}
	status = strings.ToLower(strings.TrimSpace(status))
	if status == "" || len(status) > 32 || len(callSid) > 64 || hasControl(status) || hasControl(callSid) {
		return fmt.Errorf("%w: call status %q", ErrInvalid, status)
	}
	r, err := scriptCallStatus.Run(ctx, s.rdb, []string{keyWake(meterID, seq)},
		callSid, status, formatTime(s.now()), finalCallStatuses).Int()
	if err != nil {
		return fmt.Errorf("devicelink: call status of %s: %w", attemptID, err)
	}
	log := s.log.With("meter", meterID, "attempt", attemptID)
	switch r {
	case 0:
		return fmt.Errorf("%w: wake attempt %s", ErrNotFound, attemptID)
	case -1:
		if err := s.securityEvent(ctx, meterID, SecurityCallMismatch, "status for call "+callSid+" on attempt "+attemptID); err != nil {
			return err
		}
		return fmt.Errorf("%w: call sid does not match attempt %s", ErrInvalid, attemptID)
	case 2:
		log.DebugContext(ctx, "late call status ignored", "status", status)
		return nil
	}
	s.metrics.wakeStatus(status)
	switch status {
	case "busy":
		log.InfoContext(ctx, "meter refused the wake call as expected")
	case "in-progress", "completed":
		log.WarnContext(ctx, "wake call was answered; meters must refuse it", "status", status)
	case "no-answer", "failed", "canceled":
		log.WarnContext(ctx, "wake call did not reach the meter", "status", status)
	}
	return nil
}

// wakeConnected marks an attempt as answered by the meter's connect-back.
func (s *Service) wakeConnected(ctx context.Context, attemptID string, now time.Time) error {
	meterID, seq, ok := parseAttemptID(attemptID)
	if !ok {
		return nil
	}
	if err := s.rdb.HSet(ctx, keyWake(meterID, seq), "connect", ConnectBackOK, "connected_at", formatTime(now)).Err(); err != nil {
		return fmt.Errorf("devicelink: wake attempt %s: %w", attemptID, err)
	}
	s.metrics.connectBack(ConnectBackOK)
	return nil
}

// wakeTimedOut marks an attempt whose meter did not connect back in time.
func (s *Service) wakeTimedOut(ctx context.Context, attemptID string) error {
	meterID, seq, ok := parseAttemptID(attemptID)
	if !ok {
		return nil
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, keyWake(meterID, seq), "connect", ConnectBackTimeout)
	pipe.HDel(ctx, keyMeter(meterID), "wake_pending", "wake_pending_at")
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("devicelink: wake attempt %s: %w", attemptID, err)
	}
	s.metrics.connectBack(ConnectBackTimeout)
	return nil
}

// WakeAttempts returns a meter's recent wake attempts, newest first.
func (s *Service) WakeAttempts(ctx context.Context, meterID string) ([]WakeAttempt, error) {
	if _, err := s.loadMeter(ctx, meterID); err != nil {
		return nil, err
	}
	seqs, err := s.rdb.ZRevRange(ctx, keyWakes(meterID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("devicelink: wake attempts of %s: %w", meterID, err)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(seqs))
	for i, seq := range seqs {
		n, _ := strconv.ParseInt(seq, 10, 64)
		cmds[i] = pipe.HGetAll(ctx, keyWake(meterID, n))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("devicelink: wake attempts of %s: %w", meterID, err)
	}
	out := make([]WakeAttempt, 0, len(seqs))
	for _, c := range cmds {
		f := c.Val()
		if len(f) == 0 {
			continue
		}
		a := WakeAttempt{
			ID: f["id"], MeterID: meterID, At: parseTime(f["at"]), CallSID: f["call_sid"], Status: f["status"],
			StatusAt: parseTime(f["status_at"]), ConnectBack: f["connect"], ConnectedAt: parseTime(f["connected_at"]),
			Error: f["error"], Commands: []string{},
		}
		_ = json.Unmarshal([]byte(f["commands"]), &a.Commands)
		out = append(out, a)
	}
	return out, nil
}
