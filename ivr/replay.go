package ivr

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// A duplicated delivery of a voice webhook (Twilio's retry, a fallback URL
// pointed at the same handler, a console replay) must get the TwiML of the
// first delivery and never run the step twice. The first delivery takes a
// lock, stores its answer and publishes it; a duplicate that finds the lock
// subscribes, checks the stored answer once (it may have been written before
// the subscription), then waits for the publication, bounded by its
// request's context and ReplayWait. No polling: the wait ends the moment the
// answer is published.

const (
	// lockTTL outlives any step's handler; a step whose handler died is
	// answered with an apology rather than run again.
	lockTTL = 30 * time.Second
	// defaultReplayWait stays below Twilio's 15 s webhook timeout.
	defaultReplayWait = 12 * time.Second
)

// publishAnswer stores a step's answer for later duplicates and hands it to
// duplicates waiting now. It outlives the request: Twilio may have given up
// on this delivery and be waiting on its retry.
func (w *Webhooks) publishAnswer(ctx context.Context, step, out string) {
	ctx = context.WithoutCancel(ctx)
	var set *redis.StatusCmd
	var pub *redis.IntCmd
	_, _ = w.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.Set(ctx, keyResp(step), out, callTTL)
		pub = p.Publish(ctx, chanResp(step), out)
		return nil
	})
	if err := set.Err(); err != nil {
		w.Log.ErrorContext(ctx, "voice answer not stored for duplicates", "err", err)
	}
	if err := pub.Err(); err != nil {
		w.Log.ErrorContext(ctx, "voice answer not published to duplicates", "err", err)
	}
}

// awaitAnswer waits for the answer of a step another delivery is answering.
// It reports false when none arrived within the request's context and
// ReplayWait.
func (w *Webhooks) awaitAnswer(ctx context.Context, step string) (string, bool) {
	wait := w.Config.ReplayWait
	if wait <= 0 {
		wait = defaultReplayWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	sub := w.Redis.Subscribe(ctx, chanResp(step))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription is in place
		return "", false
	}
	if out, err := w.Redis.Get(ctx, keyResp(step)).Result(); err == nil {
		return out, true
	}
	select {
	case m, ok := <-sub.Channel():
		if !ok {
			return "", false
		}
		return m.Payload, true
	case <-ctx.Done():
		return "", false
	}
}
