// Package redistest gives integration tests a real, isolated Redis database.
//
// Tests that need Redis call Client with a database number owned by their
// package (see docs/redis-keys.md). The address comes from PPP_TEST_REDIS_ADDR,
// which `make test` sets to a Redis it starts for the run; there is no default,
// so a test never reaches a server whose data is not ours. A missing server
// fails the test loudly: integration tests are never skipped silently.
//
// A database is flushed only when it is empty or carries the suite's owner
// mark, set when the suite first takes it: data someone else keeps in the
// same database number is refused, never destroyed.
package redistest

import (
	"context"
	"errors"
	"fmt"
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
	// 9 is used by this package's own tests.
	DBAdmin = 10
	// DBScenarios is the server the scenario runner's end-to-end test starts.
	DBScenarios = 11
	// DBCrash is the crash test of the simulated world against a server
	// process (sim/world).
	DBCrash = 12
	// DBLoad is the server the load generator's end-to-end test starts.
	DBLoad = 13
	// DBPppsim is the server pppsim's own tests start (pppsim up).
	DBPppsim = 14
	// DBReplyBench is the server the reply-path benchmarks start
	// (cmd/pppd), apart from DBBench, which other packages' benchmarks
	// take while these run.
	DBReplyBench = 15
)

// OwnerKey marks a database as the test suite's own.
const OwnerKey = "ppprenew:test-suite-owned"

// Addr is the Redis address integration tests use, from PPP_TEST_REDIS_ADDR.
// Empty when it is not set.
func Addr() string { return os.Getenv("PPP_TEST_REDIS_ADDR") }

// Options returns client options for database db on the test server.
func Options(db int) *redis.Options {
	return &redis.Options{Addr: Addr(), DB: db}
}

// Client connects to database db, flushes it, and closes it when the test ends.
// It fails the test if Redis does not answer.
func Client(t testing.TB, db int) *redis.Client {
	t.Helper()
	if Addr() == "" {
		t.Fatal("integration tests need a Redis of their own: run them with `make test`, " +
			"or set PPP_TEST_REDIS_ADDR to a server whose databases 1-15 the tests may flush (a database holding keys without the suite's mark is refused)")
	}
	c := redis.NewClient(Options(db))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at %s is required for integration tests (run them with `make test`): %v", Addr(), err)
	}
	if err := Take(ctx, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ErrNotOurs is returned by Take for a database holding data the test suite
// did not create.
var ErrNotOurs = errors.New("redistest: the database holds data the tests did not create")

// Take flushes the client's database for a test if it is empty or already
// the suite's, and marks it as the suite's. It refuses any other database.
func Take(ctx context.Context, c *redis.Client) error {
	db := c.Options().DB
	n, err := c.DBSize(ctx).Result()
	if err != nil {
		return fmt.Errorf("redistest: size of db %d: %w", db, err)
	}
	if n > 0 {
		owned, err := c.Exists(ctx, OwnerKey).Result()
		if err != nil {
			return fmt.Errorf("redistest: db %d: %w", db, err)
		}
		if owned == 0 {
			return fmt.Errorf("%w: db %d at %s has %d keys and no %q mark; point PPP_TEST_REDIS_ADDR at a Redis for tests, or run `make test`, which starts one",
				ErrNotOurs, db, c.Options().Addr, n, OwnerKey)
		}
	}
	if err := c.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("redistest: flush db %d: %w", db, err)
	}
	return c.Set(ctx, OwnerKey, "1", 0).Err()
}
