package redistest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"ppprenew/workflows/redistest"
)

// dbForeign is a database number no package's tests own, used here to play
// someone else's data.
const dbForeign = 9

func TestTakeRefusesADatabaseWithDataItDidNotCreate(t *testing.T) {
	if redistest.Addr() == "" {
		t.Fatal("PPP_TEST_REDIS_ADDR is not set: run `make test`")
	}
	ctx := context.Background()
	c := redis.NewClient(redistest.Options(dbForeign))
	if err := c.Set(ctx, "someone:else:key", "precious", 0).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Del(context.Background(), "someone:else:key", redistest.OwnerKey)
		c.Close()
	})

	err := redistest.Take(ctx, c)
	if !errors.Is(err, redistest.ErrNotOurs) {
		t.Fatalf("Take on a foreign database: %v, want ErrNotOurs", err)
	}
	if v, _ := c.Get(ctx, "someone:else:key").Result(); v != "precious" {
		t.Fatalf("the foreign key was destroyed: %q", v)
	}
}

func TestTakeFlushesOnlyItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	c := redistest.Client(t, dbForeign) // empty: taken and marked
	if err := c.Set(ctx, "left:by:a:test", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := redistest.Take(ctx, c); err != nil {
		t.Fatalf("Take on the suite's own database: %v", err)
	}
	if n, _ := c.Exists(ctx, "left:by:a:test").Result(); n != 0 {
		t.Fatal("the suite's own database was not flushed")
	}
	t.Cleanup(func() { c.Del(context.Background(), redistest.OwnerKey) })
}

// A server that does not carry the token of the one .ci/with-test-redis
// started (another Redis, such as the one at the standard port) is never
// flushed, even a database of it marked as the suite's.
func TestTakeRefusesAServerTheTestsDidNotStart(t *testing.T) {
	ctx := context.Background()
	c := redistest.Client(t, dbForeign) // the suite's server: taken and marked
	if err := c.Set(ctx, "kept:key", "precious", 0).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Del(context.Background(), "kept:key", redistest.OwnerKey) })
	for _, token := range []string{"", "another-servers-token"} {
		t.Setenv("PPP_TEST_REDIS_TOKEN", token)
		if err := redistest.Take(ctx, c); !errors.Is(err, redistest.ErrNotOurServer) {
			t.Fatalf("Take with token %q: %v, want ErrNotOurServer", token, err)
		}
		if v, _ := c.Get(ctx, "kept:key").Result(); v != "precious" {
			t.Fatalf("a server the tests did not start was flushed (token %q)", token)
		}
	}
}
