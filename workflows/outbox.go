package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/engine"
)

// The outbox is the one way an effect leaves the process: texts, calls,
// pushes, charges, meter commands, timers and alerts. A step's effects are
// written to the outbox stream in the same atomic commit as the state
// (lua/save.lua), so a crash can never keep the one without the other. A
// dispatcher on every replica reads the stream as a member of one consumer
// group, hands each effect to asynq under its deterministic task id, and
// then acknowledges and deletes the entry: an entry still in the stream has
// never been dispatched, or its dispatcher died before it said so. Entries
// a dispatcher took and did not acknowledge within MinIdle are claimed by
// another (XAUTOCLAIM), so recovery needs no scan of conversations and is
// safe with any number of replicas: a task id already in asynq is success.
//
// A Redis stream with a consumer group is used rather than a list: it gives
// per-replica ownership of entries in flight and the claiming of a dead
// replica's entries without a second index.
const (
	outboxGroup = "dispatch"
	// outboxFieldConv and outboxFieldEffects are the fields of an entry.
	outboxFieldConv    = "c"
	outboxFieldEffects = "e"
)

// Outbox writes effects that belong to no committed step (a reply outside
// any conversation, the one retry of an unreachable handset) to the outbox
// stream. It implements EffectQueue.
type Outbox struct{ rdb redis.UniversalClient }

// NewOutbox returns the outbox on rdb.
func NewOutbox(rdb redis.UniversalClient) *Outbox { return &Outbox{rdb: rdb} }

// Outbox is the outbox of the store's Redis.
func (s *Store) Outbox() *Outbox { return NewOutbox(s.rdb) }

var _ EffectQueue = (*Outbox)(nil)

// Enqueue implements EffectQueue: one entry for the effects.
func (o *Outbox) Enqueue(ctx context.Context, convID string, effects []engine.Effect) error {
	if len(effects) == 0 {
		return nil
	}
	b, err := json.Marshal(effects)
	if err != nil {
		return err
	}
	return o.rdb.XAdd(ctx, &redis.XAddArgs{Stream: keyOutbox, Values: []string{outboxFieldConv, convID, outboxFieldEffects, string(b)}}).Err()
}

// Dispatcher moves outbox entries to the task queue.
type Dispatcher struct {
	rdb   redis.UniversalClient
	queue EffectQueue
	// Consumer names this replica in the consumer group. A replica that
	// restarts under the same name takes up its own unacknowledged entries
	// at once; others' are claimed after MinIdle.
	Consumer string
	// MinIdle is how long an entry taken by a dispatcher may stay
	// unacknowledged before another dispatcher claims it.
	MinIdle time.Duration
	// Batch is how many entries are read at once.
	Batch int64
	// Block is how long one read waits for new entries.
	Block time.Duration
	Log   *slog.Logger
	// Dispatched and Failed count entries handed over and attempts that
	// failed (the entry stays and is tried again); optional.
	Dispatched, Failed prometheus.Counter
}

// NewDispatcher returns a dispatcher from the outbox on rdb to queue.
func NewDispatcher(rdb redis.UniversalClient, queue EffectQueue, consumer string, log *slog.Logger) (*Dispatcher, error) {
	switch {
	case rdb == nil:
		return nil, errors.New("outbox dispatcher: no redis client")
	case queue == nil:
		return nil, errors.New("outbox dispatcher: no task queue")
	case consumer == "":
		return nil, errors.New("outbox dispatcher: no consumer name")
	case log == nil:
		return nil, errors.New("outbox dispatcher: no logger")
	}
	return &Dispatcher{rdb: rdb, queue: queue, Consumer: consumer, MinIdle: 15 * time.Second, Batch: 64, Block: time.Second, Log: log}, nil
}

// NewOutboxMetrics returns the counters for Dispatched and Failed.
func NewOutboxMetrics() (dispatched, failed prometheus.Counter) {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: "ppp_outbox_dispatched_total",
			Help: "Outbox entries handed to the task queue."}),
		prometheus.NewCounter(prometheus.CounterOpts{Name: "ppp_outbox_dispatch_failures_total",
			Help: "Outbox entries whose hand-over failed; they stay in the outbox and are tried again."})
}

func (d *Dispatcher) ensureGroup(ctx context.Context) error {
	// "0": entries written before the group existed are dispatched too.
	err := d.rdb.XGroupCreateMkStream(ctx, keyOutbox, outboxGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("outbox consumer group: %w", err)
	}
	return nil
}

// DispatchPending hands over, without waiting for new ones, this
// consumer's unacknowledged entries, every entry not yet read, and others'
// entries idle for longer than MinIdle. It returns how many entries were
// handed over. The server runs it through Run; tests call it to see every
// committed effect in their queue.
func (d *Dispatcher) DispatchPending(ctx context.Context) (int, error) {
	if err := d.ensureGroup(ctx); err != nil {
		return 0, err
	}
	n := 0
	var failure error
	for _, step := range []func(context.Context) ([]redis.XMessage, error){d.own, d.claim} {
		for {
			msgs, err := step(ctx)
			if err != nil {
				return n, err
			}
			k, err := d.handOver(ctx, msgs)
			n += k
			if err != nil {
				failure = err // tried again on the next pass
			}
			if err != nil || k == 0 {
				break
			}
		}
	}
	for {
		msgs, err := d.read(ctx, ">", -1)
		if err != nil || len(msgs) == 0 {
			return n, errors.Join(failure, err)
		}
		k, err := d.handOver(ctx, msgs)
		n += k
		if err != nil {
			return n, errors.Join(failure, err)
		}
	}
}

// Run dispatches until ctx ends: new entries as they are written, and every
// few seconds this consumer's failed entries and others' stale ones.
func (d *Dispatcher) Run(ctx context.Context) {
	var sweep, prune time.Time // zero: this consumer's own entries first
	for ctx.Err() == nil {
		if time.Since(sweep) >= d.MinIdle/3 {
			sweep = time.Now()
			if _, err := d.DispatchPending(ctx); err != nil && ctx.Err() == nil {
				d.Log.WarnContext(ctx, "outbox sweep failed", "err", err)
				pause(ctx, time.Second)
				continue
			}
		}
		if time.Since(prune) >= time.Hour {
			prune = time.Now()
			if _, err := d.PruneConsumers(ctx, 24*time.Hour); err != nil && ctx.Err() == nil {
				d.Log.WarnContext(ctx, "outbox consumers not pruned", "err", err)
			}
		}
		msgs, err := d.read(ctx, ">", d.Block)
		if err != nil {
			if ctx.Err() == nil {
				d.Log.WarnContext(ctx, "outbox read failed", "err", err)
				pause(ctx, time.Second)
			}
			continue
		}
		if _, err := d.handOver(ctx, msgs); err != nil && ctx.Err() == nil {
			d.Log.WarnContext(ctx, "outbox hand-over failed; the entries are tried again", "err", err)
			pause(ctx, time.Second)
		}
	}
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// read reads entries for this consumer: ">" for new ones (block < 0: do not
// wait), "0" for its own unacknowledged ones.
func (d *Dispatcher) read(ctx context.Context, id string, block time.Duration) ([]redis.XMessage, error) {
	res, err := d.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: outboxGroup, Consumer: d.Consumer,
		Streams: []string{keyOutbox, id}, Count: d.Batch, Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		// The outbox was deleted (a reset of the simulated world): make
		// the group again and read on the next pass.
		return nil, d.ensureGroup(ctx)
	}
	if err != nil || len(res) == 0 {
		return nil, err
	}
	return res[0].Messages, nil
}

func (d *Dispatcher) own(ctx context.Context) ([]redis.XMessage, error) {
	return d.read(ctx, "0", -1)
}

func (d *Dispatcher) claim(ctx context.Context) ([]redis.XMessage, error) {
	msgs, _, err := d.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: keyOutbox, Group: outboxGroup,
		Consumer: d.Consumer, MinIdle: d.MinIdle, Start: "0", Count: d.Batch}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return msgs, err
}

// handOver enqueues each entry's effects and then acknowledges and deletes
// the entries handed over. It stops at the first failure; that entry and
// those after it stay pending.
func (d *Dispatcher) handOver(ctx context.Context, msgs []redis.XMessage) (int, error) {
	var done []string
	var failure error
	for _, m := range msgs {
		if m.Values == nil {
			done = append(done, m.ID) // deleted after it was read: nothing left to do
			continue
		}
		conv, _ := m.Values[outboxFieldConv].(string)
		raw, _ := m.Values[outboxFieldEffects].(string)
		var effects []engine.Effect
		if err := json.Unmarshal([]byte(raw), &effects); err != nil {
			// Kept out of the way rather than retried forever: an entry
			// that cannot be read now never will be.
			d.Log.ErrorContext(ctx, "outbox entry unreadable; dropped", "entry", m.ID, "conv", conv, "err", err)
			done = append(done, m.ID)
			continue
		}
		if err := d.queue.Enqueue(ctx, conv, effects); err != nil {
			if d.Failed != nil {
				d.Failed.Inc()
			}
			failure = fmt.Errorf("dispatch outbox entry %s of %q: %w", m.ID, conv, err)
			break
		}
		done = append(done, m.ID)
	}
	if len(done) > 0 {
		if _, err := d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.XAck(ctx, keyOutbox, outboxGroup, done...)
			p.XDel(ctx, keyOutbox, done...)
			return nil
		}); err != nil {
			// Enqueued but not acknowledged: claimed and enqueued again
			// later, which the deterministic task ids make harmless.
			return 0, fmt.Errorf("acknowledge outbox entries: %w", err)
		}
		if d.Dispatched != nil {
			d.Dispatched.Add(float64(len(done)))
		}
	}
	return len(done), failure
}

// PruneConsumers forgets the group's consumers other than this one that
// hold no entries and have been idle for longer than idle: each server
// start under a new address adds a name, and a name with nothing pending
// has nothing left to claim. It returns how many were forgotten.
func (d *Dispatcher) PruneConsumers(ctx context.Context, idle time.Duration) (int, error) {
	consumers, err := d.rdb.XInfoConsumers(ctx, keyOutbox, outboxGroup).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range consumers {
		if c.Name == d.Consumer || c.Pending > 0 || c.Idle < idle {
			continue
		}
		if err := d.rdb.XGroupDelConsumer(ctx, keyOutbox, outboxGroup, c.Name).Err(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// OutboxLength is how many entries wait in the outbox (not yet handed over
// or not yet acknowledged).
func OutboxLength(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	return rdb.XLen(ctx, keyOutbox).Result()
}
