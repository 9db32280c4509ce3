package redistest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RoundTrips is a go-redis hook that counts a client's trips to Redis: one
// per command sent alone, one per pipeline. Add it with AddHook.
type RoundTrips struct {
	mu    sync.Mutex
	trips []string
}

var _ redis.Hook = (*RoundTrips)(nil)

// DialHook implements redis.Hook.
func (r *RoundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (r *RoundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.add(cmd.Name())
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (r *RoundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		r.add("pipeline(" + strings.Join(names, " ") + ")")
		return next(ctx, cmds)
	}
}

func (r *RoundTrips) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trips = append(r.trips, s)
}

// Reset returns the trips counted since the last Reset and starts again.
func (r *RoundTrips) Reset() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.trips
	r.trips = nil
	return out
}

// Idle is a client that is never used, for code that only checks it has
// one (constructors): it points at a port nothing listens on, so no server
// is needed and nothing can be touched.
func Idle(t testing.TB) redis.UniversalClient {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
