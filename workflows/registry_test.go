package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"ppprenew/workflows"
	"ppprenew/workflows/engine"
	"ppprenew/workflows/redistest"
)

func newRegistry(t *testing.T) *workflows.Registry {
	t.Helper()
	rdb := redistest.Client(t, redistest.DBWorkflows)
	return workflows.NewRegistry(rdb, func() time.Time { return time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC) })
}

func driver(id, phone, card string) engine.User {
	return engine.User{ID: id, Phone: phone, Language: "en", CardToken: card, CardLast4: "4242", CardKind: engine.CardCredit}
}

func TestRegistryPhoneChangeLeavesNoStaleIndex(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	if err := r.PutUser(ctx, driver("u-1", "+85291234567", "tok_a")); err != nil {
		t.Fatal(err)
	}
	if err := r.PutUser(ctx, driver("u-1", "+85291234599", "tok_b")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.UserByPhone(ctx, "+85291234567"); !errors.Is(err, workflows.ErrNotFound) {
		t.Fatalf("old phone still finds a user: %v", err)
	}
	if _, err := r.UserByCard(ctx, "tok_a"); !errors.Is(err, workflows.ErrNotFound) {
		t.Fatalf("old card still finds a user: %v", err)
	}
	// A newcomer with the old phone and card registers as their own user.
	if err := r.PutUser(ctx, driver("u-2", "+85291234567", "tok_a")); err != nil {
		t.Fatalf("newcomer with the released phone and card: %v", err)
	}
	if u, err := r.UserByPhone(ctx, "+85291234567"); err != nil || u.ID != "u-2" {
		t.Fatalf("old phone: %v %v, want u-2", u.ID, err)
	}
	if u, err := r.UserByPhone(ctx, "+85291234599"); err != nil || u.ID != "u-1" || u.CardToken != "tok_b" {
		t.Fatalf("new phone: %+v %v, want u-1 with tok_b", u, err)
	}
	if u, err := r.UserByCard(ctx, "tok_b"); err != nil || u.ID != "u-1" {
		t.Fatalf("new card: %v %v, want u-1", u.ID, err)
	}
}

func TestRegistryRefusesAPhoneOrCardOfAnotherUser(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	if err := r.PutUser(ctx, driver("u-1", "+85291234567", "tok_a")); err != nil {
		t.Fatal(err)
	}
	for name, u := range map[string]engine.User{
		"phone": driver("u-2", "+85291234567", "tok_b"),
		"card":  driver("u-2", "+85291234568", "tok_a"),
	} {
		if err := r.PutUser(ctx, u); !errors.Is(err, workflows.ErrExists) {
			t.Errorf("%s of u-1 given to u-2: %v, want ErrExists", name, err)
		}
	}
	if _, err := r.User(ctx, "u-2"); !errors.Is(err, workflows.ErrNotFound) {
		t.Fatalf("a refused registration was stored: %v", err)
	}
	if u, err := r.UserByCard(ctx, "tok_a"); err != nil || u.ID != "u-1" {
		t.Fatalf("card after refusals: %v %v", u.ID, err)
	}
}

func TestRegistryConcurrentRegistrationsOfOnePhoneHaveOneWinner(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "u-" + string(rune('a'+i))
			errs[i] = r.PutUser(ctx, driver(id, "+85291234567", "tok_"+id))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, workflows.ErrExists):
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d registrations of one phone succeeded, want 1", won)
	}
}

func TestRegistryUserIDs(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	if err := r.PutUser(ctx, driver("u-1", "+85291234567", "tok_a")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"phone:+85291234567", "card:tok_a", "", "a b", "x/y", string(make([]byte, 65))} {
		if err := r.PutUser(ctx, driver(id, "+85291234500", "tok_z")); !errors.Is(err, workflows.ErrInvalidID) {
			t.Errorf("PutUser(%q): %v, want ErrInvalidID", id, err)
		}
		if _, err := r.User(ctx, id); !errors.Is(err, workflows.ErrNotFound) {
			t.Errorf("User(%q): %v, want ErrNotFound", id, err)
		}
	}
	if u, err := r.UserByPhone(ctx, "+85291234567"); err != nil || u.ID != "u-1" {
		t.Fatalf("phone index after refused ids: %v %v", u.ID, err)
	}
	if err := r.UpdateUser(ctx, driver("u-9", "+85291234500", "tok_z")); !errors.Is(err, workflows.ErrNotFound) {
		t.Fatalf("UpdateUser of an unknown user: %v, want ErrNotFound", err)
	}
}

func TestRegistryUpdateKeepsCreatedAt(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	first := driver("u-1", "+85291234567", "tok_a")
	first.CreatedAt = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := r.PutUser(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateUser(ctx, driver("u-1", "+85291234567", "tok_b")); err != nil {
		t.Fatal(err)
	}
	u, err := r.User(ctx, "u-1")
	if err != nil || !u.CreatedAt.Equal(first.CreatedAt) || u.CardToken != "tok_b" {
		t.Fatalf("after update: %+v %v", u, err)
	}
}
