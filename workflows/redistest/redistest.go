// Package redistest gives integration tests a real, isolated Redis database.
//
// Tests that need Redis call Client with a database number owned by their
// package (see docs/redis-keys.md). The address comes from PPP_TEST_REDIS_ADDR,
// else 127.0.0.1:6379. A missing server fails the test loudly: integration tests
// are never skipped silently.
package redistest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Database numbers owned by each package's tests, so packages tested in
// parallel never share keys.
const (
	DBWorkflows  = 1
	DBSMS        = 2
	DBDeviceLink = 3
	DBSim        = 4
	DBEndToEnd   = 5
	DBIVR        = 6
	DBPush       = 7
	DBBench      = 8
)

// Addr is the Redis address integration tests use.
func Addr() string {
	if a := os.Getenv("PPP_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Options returns client options for database db on the test server.
func Options(db int) *redis.Options {
	return &redis.Options{Addr: Addr(), DB: db}
}

// Client connects to database db, flushes it, and closes it when the test ends.
// It fails the test if Redis does not answer.
func Client(t testing.TB, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(Options(db))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at %s is required for integration tests (start it with `make redis`): %v", Addr(), err)
	}
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush redis db %d: %v", db, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
