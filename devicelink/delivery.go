package devicelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// deliver returns the commands to carry in a reply to the meter and moves
// them to delivered. Commands whose not_after passed are not sent: queued
// ones expire, delivered ones become in_doubt.
func (s *Service) deliver(ctx context.Context, ms meterState, now time.Time) ([]CommandMessage, error) {
	cmds, err := s.openCommands(ctx, ms.ID)
	if err != nil {
		return nil, err
	}
	boot := ms.fields["boot_count"]
	out := []CommandMessage{}
	for _, c := range cmds {
		if now.After(c.NotAfter) {
			switch c.State {
			case StateQueued, StateWaking, StateInSession:
				err = s.expect("", s.finish(ctx, c, StateExpired, "not_after passed before delivery", "not delivered before not_after"))
			case StateDelivered:
				err = s.expect(s.transition(ctx, ms.ID, c.CommandID, StateInDoubt, "not_after passed without an outcome", sinkNone))
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		if len(out) >= s.cfg.MaxCommandsPerReply {
			continue
		}
		if c.State != StateDelivered {
			_, err := s.transition(ctx, ms.ID, c.CommandID, StateDelivered, "sent in reply", sinkNone)
			if errors.Is(err, ErrWrongState) {
				continue // resolved concurrently
			}
			if err != nil {
				return nil, err
			}
		}
		pipe := s.rdb.Pipeline()
		pipe.HIncrBy(ctx, keyCmd(ms.ID, c.CommandID), "deliveries", 1)
		if boot != "" {
			pipe.HSet(ctx, keyCmd(ms.ID, c.CommandID), "delivered_boot", boot)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("devicelink: count delivery of %s: %w", c.CommandID, err)
		}
		out = append(out, c.message())
	}
	return out, nil
}

// message is the command as the meter receives it.
func (c CommandRecord) message() CommandMessage {
	m := CommandMessage{CommandID: c.CommandID, Type: c.Type, NotAfter: c.NotAfter.UTC()}
	switch c.Type {
	case CommandRotateKey:
		m.KeyEpoch, m.WrappedKey = c.KeyEpoch, c.wrappedKey
	default:
		m.Bay, m.PaidUntil, m.TxnID = c.Bay, c.PaidUntil.UTC(), c.TxnID
	}
	return m
}

// expect drops ErrWrongState (the command moved on concurrently) from a
// transition's result.
func (s *Service) expect(_ CommandState, err error) error {
	if errors.Is(err, ErrWrongState) {
		return nil
	}
	return err
}

// handleAcks records command outcomes reported by a meter. Acks for unknown
// commands, for another bay, or repeated acks are ignored (and logged).
func (s *Service) handleAcks(ctx context.Context, ms meterState, acks []AckMessage) error {
	log := s.log.With("meter", ms.ID)
	for _, a := range acks {
		if !commandIDPattern.MatchString(a.CommandID) {
			log.WarnContext(ctx, "ack with a bad command id ignored")
			continue
		}
		c, err := s.loadCommand(ctx, ms.ID, a.CommandID)
		if errors.Is(err, ErrNotFound) {
			log.WarnContext(ctx, "ack for an unknown command ignored", "command", a.CommandID)
			continue
		}
		if err != nil {
			return err
		}
		if a.Bay != c.Bay {
			log.WarnContext(ctx, "ack for another bay ignored", "command", a.CommandID, "bay", a.Bay, "want", c.Bay)
			continue
		}
		now := s.now()
		switch a.Status {
		case AckApplied:
			paidUntil, perr := time.Parse(time.RFC3339, a.PaidUntil)
			if perr != nil {
				paidUntil = c.PaidUntil
			}
			_, err = s.transition(ctx, ms.ID, c.CommandID, StateAccepted, "meter applied it", sinkAdd,
				"result_paid_until", formatTime(paidUntil))
			if err == nil && c.Type == CommandRenew {
				err = s.setBay(ctx, ms.ID, BayState{Bay: c.Bay, PaidUntil: paidUntil.UTC(), Source: BaySourceAck, Ref: c.CommandID, AtMS: now.UnixMilli()})
				log.InfoContext(ctx, "command applied", "command", c.CommandID, "bay", c.Bay, "paid_until", paidUntil.UTC().Format(time.RFC3339))
			} else if err == nil {
				log.InfoContext(ctx, "command applied", "command", c.CommandID, "type", c.Type)
			}
		case AckRejected:
			reason := a.Reason
			if reason == "" {
				reason = "rejected by meter"
			}
			_, err = s.transition(ctx, ms.ID, c.CommandID, StateRejected, reason, sinkAdd, "reason", reason)
			if err == nil {
				log.WarnContext(ctx, "command rejected by meter", "command", c.CommandID, "reason", reason)
				if reason == RejectExpired {
					err = s.securityEvent(ctx, ms.ID, SecurityExpiredCommand, "meter refused "+c.CommandID+" as expired (clock skew or a delayed command)")
				}
			}
		default:
			log.WarnContext(ctx, "ack with an unknown status ignored", "command", a.CommandID, "status", a.Status)
			continue
		}
		if errors.Is(err, ErrWrongState) {
			log.InfoContext(ctx, "repeated or late ack ignored", "command", c.CommandID, "err", err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// RejectExpired is the AckMessage.Reason of a meter refusing a command past
// its not_after by the meter's clock.
const RejectExpired = "expired"

// maxHelloApplied caps the applied ids read from one hello.
const maxHelloApplied = 64

// handleHello records the meter's status and resolves commands by the list
// of ids the meter says it applied: listed commands still awaiting an outcome
// are accepted. A hello opens a new session, so a delivered command not
// listed is in doubt (sent again while not_after allows; failed after it),
// and one the meter rebooted on Config.PoisonReboots times is failed as
// poison. Commands being woken for are now in session.
func (s *Service) handleHello(ctx context.Context, ms *meterState, msg MeterMessage, now time.Time) error {
	log := s.log.With("meter", ms.ID)
	var prev *Flags
	if f := ms.fields["flags"]; f != "" {
		var p Flags
		if json.Unmarshal([]byte(f), &p) == nil {
			prev = &p
		}
	}
	fields := []any{"last_reason", msg.Reason, "hello_at", formatTime(now)}
	rebooted := false
	if msg.Flags != nil {
		boot := strconv.FormatUint(uint64(msg.Flags.BootCount), 10)
		fields = append(fields, "flags", mustJSON(msg.Flags), "boot_count", boot)
		rebooted = prev != nil && msg.Flags.BootCount > prev.BootCount
		ms.fields["boot_count"] = boot
	}
	if err := s.rdb.HSet(ctx, keyMeter(ms.ID), fields...).Err(); err != nil {
		return fmt.Errorf("devicelink: hello of %s: %w", ms.ID, err)
	}
	if msg.Flags != nil {
		if err := s.statusEvents(ctx, ms.ID, prev, msg.Flags); err != nil {
			return err
		}
	}
	boot := hashUint(ms.fields["boot_count"])
	applied := msg.Applied
	if len(applied) > maxHelloApplied {
		applied = applied[:maxHelloApplied]
	}
	open, err := s.openCommands(ctx, ms.ID)
	if err != nil {
		return err
	}
	for _, c := range open {
		switch {
		case slices.Contains(applied, c.CommandID):
			_, err = s.transition(ctx, ms.ID, c.CommandID, StateAccepted, "reported applied in hello", sinkAdd,
				"result_paid_until", formatTime(c.PaidUntil), "reason", "reported applied in hello")
			if err == nil {
				log.InfoContext(ctx, "command resolved by hello", "command", c.CommandID)
			}
		case c.State == StateDelivered || c.State == StateInDoubt:
			err = s.helloUnresolved(ctx, ms.ID, c, rebooted, boot, now)
		case c.State == StateWaking:
			_, err = s.transition(ctx, ms.ID, c.CommandID, StateInSession, "meter connected ("+msg.Reason+")", sinkNone)
		}
		if err := s.expect("", err); err != nil {
			return err
		}
	}
	return nil
}

// helloUnresolved settles a delivered or in-doubt command the meter's hello
// does not list as applied.
func (s *Service) helloUnresolved(ctx context.Context, meterID string, c CommandRecord, rebooted bool, boot uint64, now time.Time) error {
	log := s.log.With("meter", meterID)
	if now.After(c.NotAfter) {
		err := s.finish(ctx, c, StateFailed, "not in the meter's applied list after not_after", "not applied by the meter")
		if err == nil {
			log.WarnContext(ctx, "in-doubt command failed", "command", c.CommandID)
		}
		return err
	}
	if rebooted && c.Deliveries > 0 && boot > c.deliveredBoot {
		pipe := s.rdb.TxPipeline()
		n := pipe.HIncrBy(ctx, keyCmd(meterID, c.CommandID), "reboots", 1)
		pipe.HSet(ctx, keyCmd(meterID, c.CommandID), "delivered_boot", boot)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("devicelink: count reboot of %s: %w", c.CommandID, err)
		}
		if int(n.Val()) >= s.cfg.PoisonReboots {
			reason := fmt.Sprintf("poison: the meter rebooted %d times after taking it", n.Val())
			err := s.finish(ctx, c, StateFailed, reason, reason)
			if err == nil {
				log.WarnContext(ctx, "poison command failed", "command", c.CommandID, "reboots", n.Val())
			}
			return err
		}
		if c.State == StateDelivered {
			_, err := s.transition(ctx, meterID, c.CommandID, StateInDoubt, "the meter rebooted without an outcome", sinkNone)
			return err
		}
		return nil
	}
	if c.State == StateDelivered {
		_, err := s.transition(ctx, meterID, c.CommandID, StateInDoubt, "a new session began without an outcome", sinkNone)
		return err
	}
	return nil
}

// handleBye ends a session: delivered commands without an outcome become
// in_doubt (they are sent again at the next exchange while not_after allows).
func (s *Service) handleBye(ctx context.Context, ms meterState) error {
	open, err := s.openCommands(ctx, ms.ID)
	if err != nil {
		return err
	}
	for _, c := range open {
		if c.State != StateDelivered {
			continue
		}
		if err := s.expect(s.transition(ctx, ms.ID, c.CommandID, StateInDoubt, "session ended without an outcome", sinkNone)); err != nil {
			return err
		}
	}
	return nil
}

// flushAcks passes command outcomes the Sink (or FailureSink) has not taken
// yet. A sink error stops the flush and puts the meter in the outbox; the
// next exchange with the meter, or the sweep, tries again. It reports
// whether everything was passed on.
func (s *Service) flushAcks(ctx context.Context, ms meterState) (bool, error) {
	ids, err := s.rdb.SMembers(ctx, keyAckSink(ms.ID)).Result()
	if err != nil {
		return false, fmt.Errorf("devicelink: ack sink of %s: %w", ms.ID, err)
	}
	slices.Sort(ids)
	failures, _ := s.sink.(FailureSink)
	for _, id := range ids {
		c, err := s.loadCommand(ctx, ms.ID, id)
		if errors.Is(err, ErrNotFound) {
			s.rdb.SRem(ctx, keyAckSink(ms.ID), id)
			continue
		}
		if err != nil {
			return false, err
		}
		ack := Ack{CommandID: c.CommandID, MeterID: ms.ID, Bay: c.Bay, PaidUntil: c.ResultPaidUntil, Reason: c.Reason}
		var serr error
		kind := "ack"
		switch c.State {
		case StateAccepted:
			ack.Applied = true
			serr = s.sink.CommandAcked(ctx, ack)
		case StateRejected:
			serr = s.sink.CommandAcked(ctx, ack)
		case StateFailed, StateExpired, StateCancelled:
			kind = "failure"
			if failures != nil {
				serr = failures.CommandFailed(ctx, c)
			}
		default:
			// Already passed on (acked) or no outcome to pass.
			if err := s.rdb.SRem(ctx, keyAckSink(ms.ID), id).Err(); err != nil {
				return false, fmt.Errorf("devicelink: ack sink of %s: %w", ms.ID, err)
			}
			continue
		}
		if serr != nil {
			s.metrics.sinkError(kind)
			s.log.WarnContext(ctx, "sink refused outcome, will retry", "meter", ms.ID, "command", id, "state", c.State, "err", serr)
			// The outbox is a global key, apart from the meter's ack-sink
			// set (the truth); if this write is lost, the meter's next
			// exchange still passes the outcome on.
			if err := s.rdb.SAdd(ctx, keyOutbox, ms.ID).Err(); err != nil {
				return false, fmt.Errorf("devicelink: outbox: %w", err)
			}
			return false, nil
		}
		if ack.Applied {
			err = s.expect(s.transition(ctx, ms.ID, id, StateAcked, "outcome passed on", sinkRemove))
		} else {
			err = s.rdb.SRem(ctx, keyAckSink(ms.ID), id).Err()
		}
		if err != nil {
			return false, fmt.Errorf("devicelink: ack sink of %s: %w", ms.ID, err)
		}
	}
	return true, nil
}

// flushOutcomes is flushAcks outside an exchange: a meter whose outcomes are
// all passed on leaves the outbox.
func (s *Service) flushOutcomes(ctx context.Context, ms meterState) error {
	done, err := s.flushAcks(ctx, ms)
	if err != nil || !done {
		return err
	}
	if err := s.rdb.SRem(ctx, keyOutbox, ms.ID).Err(); err != nil {
		return fmt.Errorf("devicelink: outbox: %w", err)
	}
	return nil
}
