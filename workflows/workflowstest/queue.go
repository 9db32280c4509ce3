// Package workflowstest has hand-written fakes for testing code that uses
// the workflows package.
package workflowstest

import (
	"context"
	"sync"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
)

// Queue records enqueued effects instead of running them.
type Queue struct {
	mu      sync.Mutex
	Effects []engine.Effect
	// Err, when set, is returned by Enqueue.
	Err error
}

var _ workflows.EffectQueue = (*Queue)(nil)

// Enqueue implements workflows.EffectQueue.
func (q *Queue) Enqueue(_ context.Context, _ string, effects []engine.Effect) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.Err != nil {
		return q.Err
	}
	q.Effects = append(q.Effects, effects...)
	return nil
}

// Sends returns the enqueued sends' templates in order.
func (q *Queue) Sends() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, e := range q.Effects {
		if e.Send != nil {
			out = append(out, e.Send.Template)
		}
	}
	return out
}
