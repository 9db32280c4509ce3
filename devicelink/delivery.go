package devicelink

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	out := []CommandMessage{}
	for _, c := range cmds {
		if now.After(c.NotAfter) {
			switch c.State {
			case StateQueued, StateWaking, StateInSession:
				err = s.expect(s.transition(ctx, ms.ID, c.CommandID, StateExpired, "not_after passed before delivery", sinkNone))
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
		if err := s.rdb.HIncrBy(ctx, keyCmd(ms.ID, c.CommandID), "deliveries", 1).Err(); err != nil {
			return nil, fmt.Errorf("devicelink: count delivery of %s: %w", c.CommandID, err)
		}
		out = append(out, CommandMessage{
			CommandID: c.CommandID,
			Type:      CommandRenew,
			Bay:       c.Bay,
			PaidUntil: c.PaidUntil.UTC(),
			TxnID:     c.TxnID,
			NotAfter:  c.NotAfter.UTC(),
		})
	}
	return out, nil
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
			if err == nil {
				err = s.setBay(ctx, ms.ID, BayState{Bay: c.Bay, PaidUntil: paidUntil.UTC(), Source: BaySourceAck, Ref: c.CommandID, AtMS: now.UnixMilli()})
				log.InfoContext(ctx, "command applied", "command", c.CommandID, "bay", c.Bay, "paid_until", paidUntil.UTC().Format(time.RFC3339))
			}
		case AckRejected:
			reason := a.Reason
			if reason == "" {
				reason = "rejected by meter"
			}
			_, err = s.transition(ctx, ms.ID, c.CommandID, StateRejected, reason, sinkAdd, "reason", reason)
			if err == nil {
				log.WarnContext(ctx, "command rejected by meter", "command", c.CommandID, "reason", reason)
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

// maxHelloApplied caps the applied ids read from one hello.
const maxHelloApplied = 64

// handleHello records the meter's status and resolves commands by the list
// of ids the meter says it applied: listed commands still awaiting an outcome
// are accepted; in_doubt commands not listed whose not_after passed failed.
func (s *Service) handleHello(ctx context.Context, ms meterState, msg MeterMessage, now time.Time) error {
	log := s.log.With("meter", ms.ID)
	fields := []any{"last_reason", msg.Reason, "hello_at", formatTime(now)}
	if msg.Flags != nil {
		fields = append(fields, "flags", mustJSON(msg.Flags))
		if msg.Flags.Tamper || msg.Flags.Tilt {
			log.WarnContext(ctx, "meter reports tamper or tilt", "tamper", msg.Flags.Tamper, "tilt", msg.Flags.Tilt)
		}
	}
	if err := s.rdb.HSet(ctx, keyMeter(ms.ID), fields...).Err(); err != nil {
		return fmt.Errorf("devicelink: hello of %s: %w", ms.ID, err)
	}
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
		case c.State == StateInDoubt && now.After(c.NotAfter):
			_, err = s.transition(ctx, ms.ID, c.CommandID, StateFailed, "not in the meter's applied list after not_after", sinkNone,
				"reason", "not applied by the meter")
			if err == nil {
				log.WarnContext(ctx, "in-doubt command failed", "command", c.CommandID)
			}
		}
		if err := s.expect("", err); err != nil {
			return err
		}
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

// flushAcks passes command outcomes the Sink has not taken yet. A Sink error
// stops the flush; the next exchange with the meter tries again.
func (s *Service) flushAcks(ctx context.Context, ms meterState) error {
	ids, err := s.rdb.SMembers(ctx, keyAckSink(ms.ID)).Result()
	if err != nil {
		return fmt.Errorf("devicelink: ack sink of %s: %w", ms.ID, err)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c, err := s.loadCommand(ctx, ms.ID, id)
		if errors.Is(err, ErrNotFound) {
			s.rdb.SRem(ctx, keyAckSink(ms.ID), id)
			continue
		}
		if err != nil {
			return err
		}
		ack := Ack{CommandID: c.CommandID, MeterID: ms.ID, Bay: c.Bay, PaidUntil: c.ResultPaidUntil, Reason: c.Reason}
		switch c.State {
		case StateAccepted:
			ack.Applied = true
		case StateRejected:
		default:
			// Already passed on (acked) or no outcome to pass.
			if err := s.rdb.SRem(ctx, keyAckSink(ms.ID), id).Err(); err != nil {
				return fmt.Errorf("devicelink: ack sink of %s: %w", ms.ID, err)
			}
			continue
		}
		if err := s.sink.CommandAcked(ctx, ack); err != nil {
			s.metrics.sinkError("ack")
			s.log.WarnContext(ctx, "sink refused ack, will retry", "meter", ms.ID, "command", id, "err", err)
			return nil
		}
		if ack.Applied {
			err = s.expect(s.transition(ctx, ms.ID, id, StateAcked, "outcome passed on", sinkRemove))
		} else {
			err = s.rdb.SRem(ctx, keyAckSink(ms.ID), id).Err()
		}
		if err != nil {
			return fmt.Errorf("devicelink: ack sink of %s: %w", ms.ID, err)
		}
	}
	return nil
}
