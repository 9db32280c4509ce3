package workflows

import (
	"context"
	"errors"
	"time"

	"ppprenew/workflows/engine"
)

func keyPhoneStopped(phone string) string { return "ppp:phone:" + phone + ":stopped" }

// stoppedTTL is how long a STOP remembers the conversations it ended.
const stoppedTTL = 7 * 24 * time.Hour

// markStopped remembers the conversations a phone's STOP ended.
func (s *Store) markStopped(ctx context.Context, phone string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	pipe := s.rdb.TxPipeline()
	pipe.SAdd(ctx, keyPhoneStopped(phone), members...)
	pipe.Expire(ctx, keyPhoneStopped(phone), stoppedTTL)
	_, err := pipe.Exec(ctx)
	return err
}

// stopped returns the conversations a phone's STOP ended.
func (s *Store) stopped(ctx context.Context, phone string) ([]string, error) {
	return s.rdb.SMembers(ctx, keyPhoneStopped(phone)).Result()
}

func (s *Store) forgetStopped(ctx context.Context, phone string) error {
	return s.rdb.Del(ctx, keyPhoneStopped(phone)).Err()
}

// OptIn records a phone's START and brings back the stays its STOP ended
// that are still paid or in their grace period, unless another driver has
// paid at the bay since. It reports how many came back.
func (r *Runner) OptIn(ctx context.Context, phone string) (int, error) {
	if err := r.Registry.SetOptOut(ctx, phone, false); err != nil {
		return 0, err
	}
	ids, err := r.Store.stopped(ctx, phone)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		st, err := r.Store.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if cur, err := r.Store.AtBay(ctx, st.MeterID, st.Bay); err == nil && cur != id {
			continue // the bay was paid by someone since
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return n, err
		}
		next, err := r.Apply(ctx, id, engine.Input{Kind: engine.InputOptIn})
		if err != nil {
			return n, err
		}
		if next.Phase != engine.PhaseOptedOut {
			n++
		}
	}
	return n, r.Store.forgetStopped(ctx, phone)
}
