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

// EnqueueRenewal stores a renewal command for its meter and arms the meter's
// wake timer (after Config.WakeBatchWindow, so renewals enqueued together
// ride on one wake call; a meter with an open session takes it at its next
// poll instead). It is idempotent by CommandID: a second call with an id
// already stored for the same meter is a no-op returning nil (an id stored
// for another meter gives ErrConflict). A new renewal supersedes the meter's
// not yet delivered renewals for the same bay whose PaidUntil is not later
// than its own; delivered ones are left to finish (renewals take the later
// paid-until, so both are harmless). Unknown meter: ErrNotFound; bad fields
// or unknown bay: ErrInvalid.
func (s *Service) EnqueueRenewal(ctx context.Context, c RenewCommand) error {
	if !commandIDPattern.MatchString(c.CommandID) {
		return fmt.Errorf("%w: command id must be 1-255 characters of A-Z a-z 0-9 . _ : -", ErrInvalid)
	}
	if c.TxnID == "" || len(c.TxnID) > 128 || hasControl(c.TxnID) {
		return fmt.Errorf("%w: command %s: bad txn id", ErrInvalid, c.CommandID)
	}
	if c.PaidUntil.IsZero() {
		return fmt.Errorf("%w: command %s: paid_until missing", ErrInvalid, c.CommandID)
	}
	ms, err := s.loadMeter(ctx, c.MeterID)
	if err != nil {
		return err
	}
	if !ms.HasBay(c.Bay) {
		return fmt.Errorf("%w: meter %s has no bay %q", ErrInvalid, c.MeterID, c.Bay)
	}
	now := s.now()
	if c.NotAfter.IsZero() {
		c.NotAfter = c.PaidUntil
		if !c.NotAfter.After(now) {
			c.NotAfter = now.Add(s.cfg.CommandTTL)
		}
	}
	if _, err := s.storeCommand(ctx, storedCommand{RenewCommand: c, Type: CommandRenew}, now); err != nil {
		return err
	}
	return s.armWake(ctx, c.MeterID, now.Add(s.cfg.WakeBatchWindow))
}

// storedCommand is a command about to be stored.
type storedCommand struct {
	RenewCommand
	// Type is CommandRenew or CommandRotateKey.
	Type string
	// KeyEpoch and WrappedKey carry a rotate_key command's new key.
	KeyEpoch   uint32
	WrappedKey string
}

// storeCommand claims the command id and stores the command as queued; it
// reports whether it was new.
func (s *Service) storeCommand(ctx context.Context, c storedCommand, now time.Time) (bool, error) {
	// The global index claims the id first; a retry after a crash between the
	// two steps finds its own claim and completes the creation.
	if err := s.rdb.HSetNX(ctx, keyCmdToMeter, c.CommandID, c.MeterID).Err(); err != nil {
		return false, fmt.Errorf("devicelink: claim command %s: %w", c.CommandID, err)
	}
	owner, err := s.rdb.HGet(ctx, keyCmdToMeter, c.CommandID).Result()
	if err != nil {
		return false, fmt.Errorf("devicelink: claim command %s: %w", c.CommandID, err)
	}
	if owner != c.MeterID {
		return false, fmt.Errorf("%w: command %s belongs to meter %s", ErrConflict, c.CommandID, owner)
	}

	created, _ := json.Marshal(Transition{To: StateQueued, At: now.UTC(), Note: "enqueued"})
	nowS := formatTime(now)
	var paidUntilMS int64
	if !c.PaidUntil.IsZero() {
		paidUntilMS = c.PaidUntil.UnixMilli()
	}
	fields := []any{
		"id", c.CommandID,
		"meter", c.MeterID,
		"type", c.Type,
		"bay", c.Bay,
		"txn_id", c.TxnID,
		"paid_until", formatTime(c.PaidUntil),
		"paid_until_ms", paidUntilMS,
		"not_after", formatTime(c.NotAfter),
		"not_after_ms", c.NotAfter.UnixMilli(),
		"state", string(StateQueued),
		"created_at", nowS,
		"updated_at", nowS,
		"deliveries", 0,
	}
	if c.Type == CommandRotateKey {
		fields = append(fields, "key_epoch", c.KeyEpoch, "wrapped_key", c.WrappedKey)
	}
	args := append([]any{keyCmdPrefix(c.MeterID), c.CommandID, c.Bay, paidUntilMS, nowS,
		stateList(sourcesOf(StateSuperseded)), string(created)}, fields...)
	res, err := scriptEnqueue.Run(ctx, s.rdb,
		[]string{keyMeter(c.MeterID), keyCmd(c.MeterID, c.CommandID), keyCmdHist(c.MeterID, c.CommandID), keyCmds(c.MeterID), keyOpen(c.MeterID)},
		args...).Result()
	if err != nil {
		return false, fmt.Errorf("devicelink: enqueue %s: %w", c.CommandID, err)
	}
	switch r := res.(type) {
	case int64:
		if r == -1 {
			return false, fmt.Errorf("%w: meter %s", ErrNotFound, c.MeterID)
		}
		s.log.InfoContext(ctx, "command already enqueued", "meter", c.MeterID, "command", c.CommandID)
		return false, nil
	case []any:
		s.metrics.command(StateQueued)
		for _, id := range r[1:] {
			s.metrics.command(StateSuperseded)
			s.log.InfoContext(ctx, "renewal superseded", "meter", c.MeterID, "command", id, "by", c.CommandID)
		}
		if c.Type == CommandRenew {
			s.log.InfoContext(ctx, "renewal enqueued", "meter", c.MeterID, "command", c.CommandID, "bay", c.Bay,
				"paid_until", c.PaidUntil.UTC().Format(time.RFC3339))
		} else {
			s.log.InfoContext(ctx, "command enqueued", "meter", c.MeterID, "command", c.CommandID, "type", c.Type)
		}
		return true, nil
	}
	return false, fmt.Errorf("devicelink: enqueue %s: unexpected script result %T", c.CommandID, res)
}

// stateList renders states as the ",a,b," list the Lua scripts match; only
// states also in keep are included when keep is given.
func stateList(states []CommandState, keep ...CommandState) string {
	var b strings.Builder
	b.WriteByte(',')
	for _, st := range states {
		if len(keep) > 0 && !containsState(keep, st) {
			continue
		}
		b.WriteString(string(st))
		b.WriteByte(',')
	}
	return b.String()
}

func containsState(list []CommandState, s CommandState) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Command returns a command with its state and history, or ErrNotFound.
func (s *Service) Command(ctx context.Context, id string) (CommandRecord, error) {
	if !commandIDPattern.MatchString(id) {
		return CommandRecord{}, fmt.Errorf("%w: command %q", ErrNotFound, id)
	}
	meterID, err := s.rdb.HGet(ctx, keyCmdToMeter, id).Result()
	if errors.Is(err, redis.Nil) {
		return CommandRecord{}, fmt.Errorf("%w: command %s", ErrNotFound, id)
	}
	if err != nil {
		return CommandRecord{}, fmt.Errorf("devicelink: command %s: %w", id, err)
	}
	c, err := s.loadCommand(ctx, meterID, id)
	if err != nil {
		return CommandRecord{}, err
	}
	out := []CommandRecord{c}
	if err := s.fillNextAttempt(ctx, meterID, out); err != nil {
		return CommandRecord{}, err
	}
	return out[0], nil
}

// Commands returns a meter's commands, newest first.
func (s *Service) Commands(ctx context.Context, meterID string) ([]CommandRecord, error) {
	if _, err := s.loadMeter(ctx, meterID); err != nil {
		return nil, err
	}
	ids, err := s.rdb.ZRevRange(ctx, keyCmds(meterID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("devicelink: commands of %s: %w", meterID, err)
	}
	out, err := s.loadCommands(ctx, meterID, ids)
	if err != nil {
		return nil, err
	}
	return out, s.fillNextAttempt(ctx, meterID, out)
}

// fillNextAttempt sets NextAttemptAt of the open commands from the meter's
// wake timer.
func (s *Service) fillNextAttempt(ctx context.Context, meterID string, cmds []CommandRecord) error {
	due, err := s.rdb.HGet(ctx, keyMeter(meterID), "wake_due").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("devicelink: wake timer of %s: %w", meterID, err)
	}
	ms, _ := strconv.ParseInt(due, 10, 64)
	for i := range cmds {
		if cmds[i].State.Open() && ms > 0 {
			cmds[i].NextAttemptAt = time.UnixMilli(ms).UTC()
		}
	}
	return nil
}

// openCommands returns a meter's commands still awaiting an outcome, oldest
// first.
func (s *Service) openCommands(ctx context.Context, meterID string) ([]CommandRecord, error) {
	ids, err := s.rdb.ZRange(ctx, keyOpen(meterID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("devicelink: open commands of %s: %w", meterID, err)
	}
	return s.loadCommands(ctx, meterID, ids)
}

func (s *Service) loadCommands(ctx context.Context, meterID string, ids []string) ([]CommandRecord, error) {
	out := make([]CommandRecord, 0, len(ids))
	for _, id := range ids {
		c, err := s.loadCommand(ctx, meterID, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// loadCommand reads one command of a meter with its history.
func (s *Service) loadCommand(ctx context.Context, meterID, id string) (CommandRecord, error) {
	pipe := s.rdb.Pipeline()
	hget := pipe.HGetAll(ctx, keyCmd(meterID, id))
	hist := pipe.LRange(ctx, keyCmdHist(meterID, id), 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return CommandRecord{}, fmt.Errorf("devicelink: command %s: %w", id, err)
	}
	f := hget.Val()
	if len(f) == 0 {
		return CommandRecord{}, fmt.Errorf("%w: command %s", ErrNotFound, id)
	}
	deliveries, _ := strconv.Atoi(f["deliveries"])
	reboots, _ := strconv.Atoi(f["reboots"])
	epoch, _ := strconv.ParseUint(f["key_epoch"], 10, 32)
	typ := f["type"]
	if typ == "" {
		typ = CommandRenew
	}
	c := CommandRecord{
		RenewCommand: RenewCommand{
			CommandID: f["id"],
			MeterID:   f["meter"],
			Bay:       f["bay"],
			TxnID:     f["txn_id"],
			PaidUntil: parseTime(f["paid_until"]),
			NotAfter:  parseTime(f["not_after"]),
		},
		Type:            typ,
		KeyEpoch:        uint32(epoch),
		State:           CommandState(f["state"]),
		CreatedAt:       parseTime(f["created_at"]),
		UpdatedAt:       parseTime(f["updated_at"]),
		Deliveries:      deliveries,
		ResultPaidUntil: parseTime(f["result_paid_until"]),
		Reason:          f["reason"],
		Reboots:         reboots,
		History:         []Transition{},
		wrappedKey:      f["wrapped_key"],
		deliveredBoot:   hashUint(f["delivered_boot"]),
	}
	for _, h := range hist.Val() {
		var t Transition
		if err := json.Unmarshal([]byte(h), &t); err == nil {
			c.History = append(c.History, t)
		}
	}
	return c, nil
}

// sinkAction says what a transition does to the meter's ack-sink set.
type sinkAction string

const (
	sinkNone   sinkAction = "none"
	sinkAdd    sinkAction = "add"
	sinkRemove sinkAction = "remove"
)

// transition moves a command to state to if the transition table allows it
// from its current state, recording note and extra fields. It returns the
// previous state; a command in a state that does not allow the move gives
// ErrWrongState (wrapped with the current state), a missing one ErrNotFound.
func (s *Service) transition(ctx context.Context, meterID, id string, to CommandState, note string, sink sinkAction, extra ...any) (CommandState, error) {
	open := "keep"
	if !to.Open() {
		open = "remove"
	}
	args := append([]any{id, stateList(sourcesOf(to)), string(to), formatTime(s.now()), note, open, string(sink)}, extra...)
	res, err := scriptTransition.Run(ctx, s.rdb,
		[]string{keyCmd(meterID, id), keyCmdHist(meterID, id), keyOpen(meterID), keyAckSink(meterID)}, args...).StringSlice()
	if err != nil {
		return "", fmt.Errorf("devicelink: command %s -> %s: %w", id, to, err)
	}
	switch res[0] {
	case "ok":
		s.metrics.command(to)
		return CommandState(res[1]), nil
	case "state":
		return CommandState(res[1]), fmt.Errorf("%w: command %s is %s, cannot become %s", ErrWrongState, id, res[1], to)
	}
	return "", fmt.Errorf("%w: command %s", ErrNotFound, id)
}

// CancelCommand withdraws a command that has not been delivered yet
// (ErrWrongState otherwise; ErrNotFound for an unknown id). A FailureSink
// is told.
func (s *Service) CancelCommand(ctx context.Context, id, reason string) error {
	c, err := s.Command(ctx, id)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = "cancelled"
	}
	if err := s.finish(ctx, c, StateCancelled, reason, reason); err != nil {
		return err
	}
	ms, err := s.loadMeter(ctx, c.MeterID)
	if err != nil {
		return err
	}
	return s.flushOutcomes(ctx, ms)
}

// finish moves a command to a terminal failure state (failed, expired,
// cancelled) and queues it for the FailureSink; a rotate_key command's
// staged key is dropped.
func (s *Service) finish(ctx context.Context, c CommandRecord, to CommandState, note, reason string) error {
	if _, err := s.transition(ctx, c.MeterID, c.CommandID, to, note, sinkAdd, "reason", reason); err != nil {
		return err
	}
	if c.Type == CommandRotateKey {
		if err := scriptDropNextKey.Run(ctx, s.rdb, []string{keyMeter(c.MeterID)}, c.CommandID).Err(); err != nil {
			return fmt.Errorf("devicelink: drop staged key of %s: %w", c.MeterID, err)
		}
	}
	return nil
}
