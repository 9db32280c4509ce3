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

// ServerKey, in database 0, holds the token .ci/with-test-redis stamps on
// the redis-server it starts (and exports as PPP_TEST_REDIS_TOKEN): only a
// server carrying the token the tests were given is one they started.
const ServerKey = "ppprenew:test-server"

// Token is the stamp of the test suite's own server, from
// PPP_TEST_REDIS_TOKEN.
func Token() string { return os.Getenv("PPP_TEST_REDIS_TOKEN") }

// ErrNotOurServer is returned by Take for a server the tests did not start.
var ErrNotOurServer = errors.New("redistest: the Redis server was not started by the tests")

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
			"or wrap the command: bash .ci/with-test-redis go test ./...")
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

// Take flushes the client's database for a test and marks it as the
// suite's, only on a server the tests started (it carries Token under
// ServerKey) and only if the database is empty or already the suite's. It
// refuses any other server and any other database.
func Take(ctx context.Context, c *redis.Client) error {
	db := c.Options().DB
	if err := ourServer(ctx, c.Options().Addr); err != nil {
		return err
	}
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

// ourServer checks the server at addr carries the suite's token.
func ourServer(ctx context.Context, addr string) error {
	token := Token()
	if token == "" {
		return fmt.Errorf("%w: PPP_TEST_REDIS_TOKEN is not set; run the tests with `make test` or `bash .ci/with-test-redis`, which start and stamp a Redis of their own", ErrNotOurServer)
	}
	c0 := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	defer c0.Close()
	got, err := c0.Get(ctx, ServerKey).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redistest: %s: %w", addr, err)
	}
	if got != token {
		return fmt.Errorf("%w: %s does not carry the token of the server .ci/with-test-redis started; nothing was flushed", ErrNotOurServer, addr)
	}
	return nil
}
