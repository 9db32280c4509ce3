// Package workflowstest has hand-written fakes for testing code that uses
// the workflows package.
package workflowstest

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// Queue records effects instead of running them. Made with NewQueue, it
// is the task queue of a dispatcher of the outbox on a real Redis, and
// every read first hands it what the outbox holds, so a test sees each
// committed effect in order without asynq.
type Queue struct {
	mu      sync.Mutex
	effects []engine.Effect
	// Err, when set, is returned by Enqueue (the outbox keeps the effects).
	Err error
	d   *workflows.Dispatcher
}

var _ workflows.EffectQueue = (*Queue)(nil)

// NewQueue returns a queue fed by the outbox on rdb.
func NewQueue(rdb redis.UniversalClient) *Queue {
	q := &Queue{}
	d, err := workflows.NewDispatcher(rdb, q, "test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		panic(err)
	}
	q.d = d
	return q
}

// Enqueue implements workflows.EffectQueue.
func (q *Queue) Enqueue(_ context.Context, _ string, effects []engine.Effect) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Err != nil {
		return q.Err
	}
	q.effects = append(q.effects, effects...)
	return nil
}

// Drain hands the queue what the outbox holds and returns how many entries.
func (q *Queue) Drain() (int, error) {
	if q.d == nil {
		return 0, nil
	}
	return q.d.DispatchPending(context.Background())
}

// Effects returns every effect handed over so far, in order.
func (q *Queue) Effects() []engine.Effect {
	_, _ = q.Drain()
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.effects)
}

// Sends returns the handed-over sends' templates in order.
func (q *Queue) Sends() []string {
	var out []string
	for _, e := range q.Effects() {
		if e.Send != nil {
			out = append(out, e.Send.Template)
		}
	}
	return out
}
