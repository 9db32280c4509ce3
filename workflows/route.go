package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/engine"
)

// Claim is an idempotency key set (SET NX with a TTL) in the round trip
// that routes an inbound reply, for example the carrier's message id.
type Claim struct {
	Key string
	TTL time.Duration
}

// Route is what one round trip to Redis learns about a reply from a phone:
// whether it is new, whether the phone opted out of texts, and the
// conversation it answers with what is needed to load that conversation
// and the driver's facts together in the next round trip.
type Route struct {
	Phone string
	// Fresh is false when the claim was already set: a duplicate delivery.
	Fresh bool
	// OptedOut means the phone sent STOP.
	OptedOut bool
	// Conv is the phone's most recently prompted open conversation ("" for none).
	Conv string
	// userID and card are Conv's driver and card, when the index knows them.
	userID, card string
	known        bool
}

// Route routes a reply from phone in one pipeline: the claim (when its Key
// is set), the opt-out, the most recently prompted open conversation and
// its driver and card.
func (s *Store) Route(ctx context.Context, phone string, claim Claim) (Route, error) {
	rt := Route{Phone: phone, Fresh: true}
	var setNX *redis.BoolCmd
	var out *redis.BoolCmd
	var open *redis.StringSliceCmd
	var who *redis.MapStringStringCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if claim.Key != "" {
			setNX = p.SetNX(ctx, claim.Key, "1", claim.TTL)
		}
		out = p.SIsMember(ctx, keyOptOutSMS, phone)
		open = p.ZRevRange(ctx, keyPhoneOpen(phone), 0, 0)
		who = p.HGetAll(ctx, keyPhoneWho(phone))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return rt, err
	}
	if setNX != nil {
		rt.Fresh = setNX.Val()
	}
	rt.OptedOut = out.Val()
	if ids := open.Val(); len(ids) > 0 {
		rt.Conv = ids[0]
		if v, ok := who.Val()[rt.Conv]; ok {
			rt.userID, rt.card, rt.known = strings.Cut(v, "\n")
		}
	}
	return rt, nil
}

// Unclaim forgets a claim so the carrier's retry of a reply that failed is
// processed.
func (s *Store) Unclaim(ctx context.Context, claim Claim) error {
	return s.rdb.Del(ctx, claim.Key).Err()
}

// factsCmds are the commands that read a driver's facts, queued on a pipeline.
type factsCmds struct {
	phone, card *redis.StringCmd
	devices     *redis.IntCmd
	optOut      *redis.BoolCmd
}

func queueFacts(ctx context.Context, p redis.Pipeliner, userID, phone, card string) factsCmds {
	return factsCmds{
		phone:   p.HGet(ctx, keyBlacklistPhone, phone),
		card:    p.HGet(ctx, keyBlacklistCard, card),
		devices: p.HLen(ctx, keyPushDevices(userID)),
		optOut:  p.SIsMember(ctx, keyOptOutSMS, phone),
	}
}

func (c factsCmds) facts() (engine.Facts, error) {
	f := engine.Facts{Known: true}
	for _, err := range []error{c.phone.Err(), c.card.Err(), c.devices.Err(), c.optOut.Err()} {
		if err != nil && !errors.Is(err, redis.Nil) {
			return f, err
		}
	}
	f.PhoneBlacklisted, f.CardBlacklisted = c.phone.Val(), c.card.Val()
	f.HasApp = c.devices.Val() > 0
	f.SMSOptedOut = c.optOut.Val()
	return f, nil
}

// loadWithFacts loads a conversation and its driver's facts in one
// pipeline; the driver and card must be known beforehand (a Route, or the
// state read by an earlier attempt).
func (s *Store) loadWithFacts(ctx context.Context, id, userID, phone, card string) (engine.State, engine.Facts, error) {
	var state *redis.StringCmd
	var fc factsCmds
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		state = p.HGet(ctx, keyConv(id), "s")
		fc = queueFacts(ctx, p, userID, phone, card)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return engine.State{}, engine.Facts{}, err
	}
	st, err := decodeState(id, state)
	if err != nil {
		return st, engine.Facts{}, err
	}
	f, err := fc.facts()
	return st, f, err
}

func decodeState(id string, cmd *redis.StringCmd) (engine.State, error) {
	raw, err := cmd.Result()
	if errors.Is(err, redis.Nil) {
		return engine.State{}, fmt.Errorf("conversation %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return engine.State{}, err
	}
	return unmarshalState(id, raw)
}
